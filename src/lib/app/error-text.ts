/**
 * The one place where errors become words people read. Every store shows `describeError(err)`;
 * none shows `err.message` itself.
 *
 * Errors are picked by `err.name` (which survives duplicated bundles). A few error classes carry
 * a message written for people on purpose (AUTHORED below: each is thrown only with such
 * sentences, listed where it is thrown); for every other error the sentence is chosen here, and
 * an error nobody expected gets a plain "Something went wrong" without its internals.
 *
 * ```ts
 * try { await chat.acceptInvite(link); } catch (err) { this.error = describeError(err, 'invite'); }
 * ```
 */
import { MAX_MESSAGE_UNITS } from '../core/limits.js';

/** Where the error happened: the same error name can need other words in another place. */
export type ErrorContext =
  | 'connect'
  | 'start'
  | 'invite'
  | 'pairing'
  | 'message'
  | 'group'
  | 'contact'
  | 'profile'
  | 'settings';

/** Errors whose message is a sentence written for people (see where each is thrown). */
const AUTHORED = new Set([
  'InvalidProfileError', // contacts/profile.ts: "Enter a name", "A name can be at most 64 characters"
  'InvalidInviteError', // contacts/invite-link.ts, invites.ts: "That invite has expired: ask for a new one"
  'InvalidGroupNameError', // app/groups.ts: "Give the group a name."
  'NotAContactError', // app/group-service.ts
  'UnknownGroupError', // app/group-service.ts
  'RelayInfoUnavailableError' // app/relay-info.ts: names the relay it could not reach
]);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  reason?: unknown;
  remote?: unknown;
}

/** "abc" -> "Abc." (sentences end with a stop). */
function sentence(text: string): string {
  const t = text.trim();
  if (t === '') return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(first) ? first : `${first}.`;
}

function refusal(reason: unknown, remote: unknown, context: ErrorContext | undefined): string {
  switch (reason) {
    case 'bad-secret':
      return "The invite didn't match. Ask for a new invite link.";
    case 'unknown-invite':
      return 'That invite is unknown or was already used. Ask for a new one.';
    case 'expired':
      return 'That invite has expired. Ask for a new one.';
    case 'blocked':
      return context === 'pairing'
        ? 'The other device refused to pair.'
        : 'The other device refused: this device is blocked there.';
    case 'rate-limited':
      return 'Too many attempts: try again in a minute.';
    case 'bad-code':
      return remote === false
        ? 'Too many attempts with a wrong code: this code no longer works. Show a new code.'
        : "The code didn't match. Check it and try again.";
    case 'busy':
      return 'The other device is busy pairing with someone else. Try again in a moment.';
    case 'not-pairing':
      return 'The other device stopped pairing. Ask for a new code.';
    case 'declined':
      return "The other person said the numbers don't match, so nobody was added.";
    default:
      return context === 'pairing'
        ? 'The other device refused to pair.'
        : 'The other device refused the invite.';
  }
}

/** `err` and its causes, one `Name: message` each (what the developer console gets). */
export function errorChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const { name, message, cause } = e as { name?: unknown; message?: unknown; cause?: unknown };
    parts.push(`${String(name ?? typeof e)}: ${String(message ?? e)}`);
    e = cause;
  }
  return parts.join(' <- ');
}

/**
 * The sentence to show for `err`. An error with a cause (what libp2p or the browser said, which
 * the sentence leaves out) also goes to the developer console.
 */
export function describeError(err: unknown, context?: ErrorContext): string {
  if ((err as { cause?: unknown } | null)?.cause !== undefined)
    console.warn(`p2p4e: ${context ?? 'error'}: ${errorChain(err)}`);
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  if (name !== undefined && AUTHORED.has(name) && message !== '') return sentence(message);
  switch (name) {
    // --- connecting (p2p) ---
    case 'InvalidTargetError':
      if (e.reason === 'empty') return 'Enter a peer ID or a link to connect.';
      if (e.reason === 'self') return "That's this device's own ID. Enter the other device's ID.";
      return "That doesn't look like a peer ID or a link from this app.";
    case 'RelayUnavailableError':
      return "This device isn't connected to a relay yet, so it can't reach other devices. Wait for “Connected via relay” and try again.";
    case 'PeerUnreachableError':
      return "Couldn't reach that device. Check that it's online with the app open and uses the same relay.";
    case 'DialTimeoutError':
      return "The other device didn't answer in time. Try again.";
    case 'DirectConnectionFailedError':
      return "Reached the other device through the relay, but couldn't set up a direct connection. A network may be blocking it; a TURN server in Settings can help.";
    case 'NodeNotStartedError':
    case 'ChatNotStartedError':
    case 'NotStartedError':
    case 'SyncNotStartedError':
      return context === 'pairing'
        ? "The app couldn't start, so pairing isn't available. Reload the page to try again."
        : 'The app is still starting. Try again in a moment.';
    case 'PeerNotConnectedError':
      return "That device isn't connected.";
    case 'AbortError':
      return context === 'pairing' ? 'Pairing was cancelled.' : 'Connecting was cancelled.';
    case 'StorageUnavailableError':
      return "This browser won't let the app keep its data (private browsing?), so it can't keep a device ID.";
    case 'RelayInfoUnavailableError':
      return "Can't reach the relay.";

    // --- invites and contacts ---
    case 'HandshakeDialError':
      return "Couldn't reach the person who made this invite. They need to have the app open.";
    case 'HandshakeTimeoutError':
      return 'The other device did not answer in time. Try again.';
    case 'HandshakeRefusedError':
      return refusal(e.reason, e.remote, context);
    case 'ProtocolViolationError':
      if (e.reason === 'version') {
        return 'The other device runs an incompatible version of the app. Both of you need the latest version.';
      }
      if (e.reason === 'closed') {
        return 'The connection to the other device closed before you were connected. Try again.';
      }
      return 'The other device sent something this app could not read. Try again.';
    case 'ContactNotFoundError':
      return 'That contact is no longer in your contacts.';

    // --- pairing ---
    case 'PairingWrongAnswerError':
      return 'Someone else answered this code. Ask for a new code and try again.';
    case 'NoPairingRelayError':
      return 'You need to be connected to a relay to pair with a code.';
    case 'InvalidPairingCodeError':
      return 'Enter the 6 digits of the code shown on the other device.';
    case 'PairingTimeoutError':
      return 'The code expired before anyone used it. Show a new code to try again.';
    case 'PairingNotFoundError':
      return (
        'Nobody was found with this code. Check that you typed it right, that it has not ' +
        'expired, and that both of you use the same relay.'
      );

    // --- conversations ---
    case 'InvalidInputError':
      return context === 'message'
        ? `A message needs some text, and at most ${MAX_MESSAGE_UNITS.toLocaleString('en')} characters.`
        : "That can't be used here. Check what you typed.";
    case 'UnknownMessageError':
      return 'That message is no longer there.';
    case 'NotAuthorError':
      return 'Only the person who wrote a message can change it.';
    case 'NotMemberError':
      return 'You are no longer a member of this group.';
    case 'NotAGroupError':
      return 'That only works in a group.';
    case 'UnknownConversationError':
      return 'This conversation is not on this device.';

    default:
      return 'Something went wrong. Try again, or reload the page.';
  }
}

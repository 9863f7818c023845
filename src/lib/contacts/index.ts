/**
 * Contacts: the local profile, the contact book, one-time invite links and the invite
 * handshake (INVITE_PROTOCOL), and short-code pairing (PAIR_PROTOCOL; design and limits in
 * pairing.ts).
 *
 * ```ts
 * import {
 *   createContacts, createIdbContactsStorage, createInvites, createPairing, createProfileStore
 * } from '$lib/contacts';
 * // QR codes (the qrcode package) load on demand: const { inviteQrSvg } = await import('$lib/contacts/qr');
 *
 * const storage = createIdbContactsStorage(); // no I/O until first use
 * const contacts = createContacts({ store: storage.contacts });
 * await contacts.start();
 * const profile = createProfileStore(storage.profile);
 * await profile.save({ name: 'Alice' }); // throws InvalidProfileError for a bad name
 *
 * const invites = createInvites(
 *   { origin: location.origin },
 *   {
 *     host: node.libp2p,
 *     contacts,
 *     store: storage.invites,
 *     profile: () => profile.load(),
 *     relays: () => node.state.relays.filter((r) => r.status === 'reserved').map((r) => r.addr)
 *   }
 * );
 * await invites.start(); // inviter side: answers INVITE_PROTOCOL, also over relayed connections
 * const { link } = await invites.create(); // '<origin>/#/invite/AQ…'; show it and inviteQrSvg(link)
 * invites.onAccepted(({ contact }) => console.log('joined:', contact.name));
 *
 * // On the other device, after opening the link:
 * const alice = await invites.accept(link); // both devices now have each other as contacts
 * contacts.onChange((change) => store.refresh(change));
 * contacts.isBlocked(peerId); // synchronous: protocols refuse blocked peers with it
 *
 * // Pairing by code, both people online on the same relay:
 * const pairing = createPairing({}, {
 *   host: node.libp2p, pubsub: node.libp2p.services.pubsub, contacts,
 *   profile: () => profile.load(), addresses: () => node.state.addresses
 * });
 * await pairing.start();
 * const session = pairing.host({ room: relayPeerId }); // show session.code
 * // other device: pairing.join('123456', { room: relayPeerId })
 * const pending = await session.result; // both proved the code (CPace); nobody added yet
 * // Show pending.safetyNumber on both screens; each person confirms (or pending.decline()):
 * const contact = await pending.confirm(); // once both confirmed: a verified contact
 * ```
 */
export {
  createContacts,
  type Contact,
  type ContactChange,
  type Contacts,
  type ContactsDeps,
  type ContactSource,
  type NewContact
} from './contacts.js';
export {
  createProfileStore,
  resizeAvatar,
  validateAvatar,
  validateDisplayName,
  validateProfile,
  type Avatar,
  type AvatarCanvas,
  type AvatarType,
  type Profile,
  type ProfileStore,
  type ResizeAvatarDeps,
  type ResizeAvatarOptions
} from './profile.js';
export {
  decodeInvitePayload,
  encodeInvitePayload,
  inviteId,
  inviteLink,
  parseInvite,
  type Invite,
  type ParseInviteOptions
} from './invite-link.js';
export {
  createInvites,
  inviteMac,
  type CreatedInvite,
  type CreateInviteOptions,
  type HandshakeLimits,
  type InviteAcceptedEvent,
  type InviteRefusedEvent,
  type Invites,
  type InvitesDeps,
  type InvitesInit
} from './invites.js';
export type {
  OutstandingInvite,
  OutstandingInviteInfo,
  OutstandingInviteStore
} from './outstanding.js';
export {
  createPairing,
  normalizePairingCode,
  pairingTopic,
  randomPairingCode,
  type Pairing,
  type PairingDeps,
  type PairingInit,
  type PairingOptions,
  type PairingPubSub,
  type PairingResult,
  type PairingSession
} from './pairing.js';
export { realPairingClock, type PairingClock } from './pairing-clock.js';
// Not re-exported: qr.ts (the qrcode package) is imported on demand, out of the first screen's bundle.
export {
  contactsDbNames,
  createIdbContactsStorage,
  createMemoryContactsStorage,
  type ContactsStorage
} from './stores.js';
export { refusalMessage } from './frames.js';
export {
  ContactNotFoundError,
  HandshakeDialError,
  HandshakeRefusedError,
  HandshakeTimeoutError,
  InvalidInviteError,
  InvalidPairingCodeError,
  InvalidProfileError,
  NotStartedError,
  PairingTimeoutError,
  ProtocolViolationError,
  type InvalidInviteReason,
  type RefusalReason
} from './errors.js';
export * as contactsConstants from './constants.js';

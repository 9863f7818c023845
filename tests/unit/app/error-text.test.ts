import { describe, expect, it } from 'vitest';
import { describeError } from '../../../src/lib/app/error-text.js';
import { ChatNotStartedError, PairingNotFoundError } from '../../../src/lib/app/errors.js';
import {
  InvalidGroupNameError,
  NotAContactError,
  UnknownGroupError
} from '../../../src/lib/app/groups.js';
import * as contacts from '../../../src/lib/contacts/errors.js';
import { MAX_MESSAGE_UNITS } from '../../../src/lib/core/limits.js';
import * as p2p from '../../../src/lib/p2p/errors.js';
import * as sync from '../../../src/lib/sync/errors.js';

/** Every typed error the services throw at the UI, with the context it is shown in. */
const typed: [Error, Parameters<typeof describeError>[1]][] = [
  [new p2p.InvalidTargetError('x', 'empty'), 'connect'],
  [new p2p.InvalidTargetError('x', 'self'), 'connect'],
  [new p2p.InvalidTargetError('x'), 'connect'],
  [new p2p.NodeNotStartedError('x'), 'connect'],
  [new p2p.RelayUnavailableError('x'), 'connect'],
  [new p2p.PeerUnreachableError('x'), 'connect'],
  [new p2p.DialTimeoutError('x'), 'connect'],
  [new p2p.DirectConnectionFailedError('x'), 'connect'],
  [new p2p.PeerNotConnectedError('x'), 'connect'],
  [new p2p.AbortError(), 'connect'],
  [new contacts.HandshakeRefusedError('x', 'bad-secret', true), 'invite'],
  [new contacts.HandshakeRefusedError('x', 'unknown-invite', true), 'invite'],
  [new contacts.HandshakeRefusedError('x', 'expired', true), 'invite'],
  [new contacts.HandshakeRefusedError('x', 'blocked', true), 'invite'],
  [new contacts.HandshakeRefusedError('x', 'rate-limited', true), 'invite'],
  [new contacts.HandshakeRefusedError('x', 'bad-code', true), 'pairing'],
  [new contacts.HandshakeRefusedError('x', 'bad-code', false), 'pairing'],
  [new contacts.HandshakeRefusedError('x', 'busy', true), 'pairing'],
  [new contacts.HandshakeRefusedError('x', 'not-pairing', true), 'pairing'],
  [new contacts.ProtocolViolationError('x', 'version'), 'invite'],
  [new contacts.ProtocolViolationError('x', 'malformed'), 'invite'],
  [new contacts.ProtocolViolationError('x', 'closed'), 'invite'],
  [new contacts.HandshakeTimeoutError('x'), 'invite'],
  [new contacts.HandshakeDialError('x'), 'invite'],
  [new contacts.ContactNotFoundError('x'), 'contact'],
  [new contacts.InvalidPairingCodeError('x'), 'pairing'],
  [new contacts.PairingTimeoutError('x'), 'pairing'],
  [new contacts.PairingWrongAnswerError('x'), 'pairing'],
  [new PairingNotFoundError('x'), 'pairing'],
  [new ChatNotStartedError('x'), 'pairing'],
  [new sync.UnknownMessageError('x'), 'message'],
  [new sync.NotAuthorError('x'), 'message'],
  [new sync.NotMemberError('x'), 'group'],
  [new sync.NotAGroupError('x'), 'group'],
  [new sync.UnknownConversationError('x'), 'message'],
  [new sync.InvalidInputError('x'), 'message']
];

describe('describeError', () => {
  it('has a plain sentence of its own for every typed error, never the internal message', () => {
    const sentences = typed.map(([err, context]) => describeError(err, context));
    for (const s of sentences) {
      expect(s).toMatch(/^[A-Z“].*[.]$/);
      expect(s).not.toMatch(/Error|undefined|\bx\b/);
    }
    expect(new Set(sentences).size).toBe(sentences.length);
  });

  it('matches by name, so errors from another bundle copy work too', () => {
    const foreign = Object.assign(new Error('whatever'), { name: 'PeerUnreachableError' });
    expect(describeError(foreign)).toBe(describeError(new p2p.PeerUnreachableError('x')));
  });

  it('shows the authored sentences of the errors written for people', () => {
    expect(describeError(new InvalidGroupNameError('Give the group a name.'))).toBe(
      'Give the group a name.'
    );
    expect(describeError(new NotAContactError('Only your contacts can be added'))).toBe(
      'Only your contacts can be added.'
    );
    expect(describeError(new UnknownGroupError('This group is not available.'))).toBe(
      'This group is not available.'
    );
    expect(
      describeError(new contacts.InvalidInviteError('That invite has expired', 'expired'))
    ).toBe('That invite has expired.');
  });

  it('never shows the message of an unexpected error', () => {
    expect(describeError(new Error('TypeError: x.y is undefined at foo.ts:12'))).toBe(
      'Something went wrong. Try again, or reload the page.'
    );
    expect(describeError(undefined)).toBe('Something went wrong. Try again, or reload the page.');
    expect(describeError('a string')).toBe('Something went wrong. Try again, or reload the page.');
  });

  it('quotes the limit a message broke', () => {
    expect(describeError(new sync.InvalidInputError('too long'), 'message')).toContain(
      MAX_MESSAGE_UNITS.toLocaleString('en')
    );
  });
});

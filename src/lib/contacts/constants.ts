/**
 * Limits and timeouts of contacts, invites and pairing. Each has a matching init option where
 * it is tunable; these are the defaults.
 */
import { MAX_DISPLAY_NAME_LENGTH } from '../core/limits.js';

// --- Profile -----------------------------------------------------------------------------

/** Longest display name, in characters (code points) after trimming. */
export const MAX_DISPLAY_NAME_CHARS = MAX_DISPLAY_NAME_LENGTH;

/**
 * Largest avatar image in bytes (a 128×128 WebP is usually 4–8 KiB). Both avatars of a
 * handshake cross a relayed connection, which libp2p limits to 128 KiB both ways together by
 * default: with two 16 KiB avatars a whole invite handshake uses ~46 KiB of it (measured).
 */
export const MAX_AVATAR_BYTES = 16 * 1024;

/** Avatar side in pixels (square) produced by resizeAvatar(). */
export const AVATAR_SIZE_PX = 128;

/** Image types an avatar may have. */
export const AVATAR_TYPES = ['image/webp', 'image/jpeg', 'image/png'] as const;

// --- Invites -------------------------------------------------------------------------------

/** Version byte of the invite payload. */
export const INVITE_VERSION = 1;

/** Bytes of an invite's one-time secret. */
export const INVITE_SECRET_BYTES = 32;

/** Invite lifetime when none is given. */
export const DEFAULT_INVITE_TTL_MS = 24 * 60 * 60 * 1000;

/** Longest lifetime an invite may be created with. */
export const MAX_INVITE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** Relay multiaddrs carried in one invite. */
export const MAX_INVITE_RELAYS = 4;

/** Longest relay multiaddr (binary) in an invite. */
export const MAX_INVITE_MULTIADDR_BYTES = 255;

/** Longest invite payload (base64url characters); keeps links and QR codes usable. */
export const MAX_INVITE_PAYLOAD_CHARS = 1_500;

/** Outstanding invites kept at once; creating more drops the oldest. */
export const MAX_OUTSTANDING_INVITES = 50;

/** Fragment path of an invite link: `<origin>/#/invite/<payload>`. */
export const INVITE_LINK_HASH_PREFIX = '#/invite/';

// --- Handshakes (invite and pairing) ----------------------------------------------------------

/** Largest frame either side accepts (a profile with the largest avatar, base64, fits). */
export const MAX_FRAME_BYTES = 32 * 1024;

/** A whole handshake (dial excluded) must finish within this time. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Dialing the other device for a handshake gives up after this time. */
export const DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS = 15_000;

/** Handshake attempts accepted from one peer per window. */
export const DEFAULT_RATE_LIMIT_PER_PEER = 5;

/** Rate-limit window. */
export const DEFAULT_RATE_LIMIT_WINDOW_MS = 60_000;

/** Bytes of the inviter's challenge nonce. */
export const NONCE_BYTES = 32;

// --- Pairing ---------------------------------------------------------------------------------

/** Digits in a pairing code. */
export const PAIRING_CODE_DIGITS = 6;

/** How long a pairing code is valid (both sides give up after this). */
export const DEFAULT_PAIRING_TTL_MS = 120_000;

/**
 * How long the joining side looks for the device showing the code (the app's join timeout,
 * src/lib/app/pairing.ts). The other device shows its code before this one types it, so finding
 * each other takes seconds; a wrong code finds nobody.
 */
export const DEFAULT_PAIRING_JOIN_TIMEOUT_MS = 20_000;

/** How often the joining side re-announces itself on the pairing topic. */
export const DEFAULT_PAIRING_ANNOUNCE_INTERVAL_MS = 1_000;

/** The joining side's first announcement goes out after at most this time. */
export const PAIRING_FIRST_ANNOUNCE_MAX_MS = 100;

/** Failed pairing handshakes after which the code is dropped (guessing protection). */
export const MAX_PAIRING_FAILURES = 3;

/** Largest pairing announcement (gossipsub message) accepted. */
export const MAX_PAIRING_ANNOUNCE_BYTES = 2_048;

/** Prefix of pairing gossipsub topics (rendezvous buckets, see pairing-code.ts). */
export const PAIRING_TOPIC_PREFIX = '/p2p4e/pair/2/';

/**
 * Leading digits of the code that pick the rendezvous topic. Anyone can read the topic (the
 * relay tells every peer which topics it joins), so these digits are public: the PAKE then
 * protects the other 10^5 values, one online guess per run.
 */
export const PAIRING_RENDEZVOUS_DIGITS = 1;

/** Bytes of the host's CPace session id. */
export const PAIRING_SID_BYTES = 16;

/**
 * How long both people have to compare the safety number and press "Numbers match" once the
 * codes matched. Under the relay's 2-minute limit for a relayed connection, which may carry the
 * handshake stream.
 */
export const DEFAULT_PAIRING_CONFIRM_TIMEOUT_MS = 90_000;

// --- Invite attempt limits ---------------------------------------------------------------------

/**
 * Distinct peers that may fail an invite's proof (a wrong MAC for a known invite ID) per window
 * before that invite refuses newcomers for the rest of the window. Only proof failures count, so
 * peers that do not know the invite cannot use it up.
 */
export const MAX_INVITE_PROOF_FAILURES = 5;

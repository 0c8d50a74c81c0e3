// BEP 44's record model (core/records/model.ts): what the one record store, server and client need
// to hold, answer and publish Mainline items.
//   immutable key = SHA-1(bencoded v)          mutable key = SHA-1(public key || salt)
//   signed bytes  = bep44Signable(salt, seq, v) (bep44.ts)
// The stored value is `v` bencoded, exactly as signed and hashed. A user's bytes travel as a
// bencoded byte string (what bittorrent-dht's put({ v: Buffer }) sends), so `put hello` is the item
// "5:hello" at SHA-1("5:hello"); a get gives back the string's bytes, or for an item some other
// client stored as a list, integer or dictionary, its bencoded bytes.
// Write tokens come from get (BEP 44), and get answers carry no salt: the asker supplies it.
import type { RecordModel } from '../../records/model';
import { bdecode, bencode } from './bencode';
import { bep44Signable, immutableTarget, mutableTarget } from './bep44';
import { MAINLINE_ID_BYTES, MAX_BEP44_SALT_BYTES, MAX_BEP44_VALUE_BYTES } from './types';

export const MAINLINE_RECORDS: RecordModel = {
  keyBytes: MAINLINE_ID_BYTES,
  hashName: 'SHA-1',
  maxValueBytes: MAX_BEP44_VALUE_BYTES,
  maxSaltBytes: MAX_BEP44_SALT_BYTES,
  immutableKey: immutableTarget,
  mutableKey: mutableTarget,
  signable: bep44Signable,
  checkValue(value) {
    const r = bdecode(value);
    return r.ok ? null : `v is not one bencoded value (${r.error})`;
  },
  encodeValue: (data) => bencode(data),
  decodeValue(value) {
    const r = bdecode(value);
    return r.ok && r.value instanceof Uint8Array ? r.value : value;
  },
  tokensFrom: 'find-value',
  answersCarrySalt: false,
};

//! Zig-zag encoding of Avro `int` and `long` values ("Binary Encoding" in the specification):
//! the sign moves into the lowest bit, then the value is written as a little-endian base-128
//! varint of at most ten bytes.

/// The zig-zag form of `v` (`0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3, ...`).
#[inline(always)]
#[must_use]
pub const fn encode(v: i64) -> u64 {
    // bit reinterpretation on purpose: the sign is moved into bit 0
    ((v << 1) ^ (v >> 63)).cast_unsigned()
}

/// The value of the zig-zag form `z` (inverse of [`encode`]).
#[inline(always)]
#[must_use]
pub const fn decode(z: u64) -> i64 {
    (z >> 1).cast_signed() ^ -((z & 1).cast_signed())
}

/// The longest varint of a `long`, in bytes.
pub const MAX_VARINT_LEN: usize = 10;

/// Appends `v` as a zig-zag variable-length long.
#[inline(always)]
// every `as u8` takes a value below 0x80 or the low 7 bits: truncation is the encoding
#[allow(clippy::cast_possible_truncation)]
pub fn write_long(out: &mut Vec<u8>, v: i64) {
    let mut z = encode(v);
    if z < 0x80 {
        // one byte: small lengths, union and enum indexes
        out.push(z as u8);
        return;
    }
    let mut buf = [0u8; MAX_VARINT_LEN];
    let mut n = 0;
    for slot in buf.iter_mut() {
        if z < 0x80 {
            *slot = z as u8;
            n += 1;
            break;
        }
        *slot = (z as u8 & 0x7f) | 0x80;
        z >>= 7;
        n += 1;
    }
    out.extend_from_slice(buf.get(..n).unwrap_or(&buf));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_long(&mut out, v);
        out
    }

    #[test]
    fn follows_the_specification_examples() {
        assert_eq!(bytes(0), [0x00]);
        assert_eq!(bytes(-1), [0x01]);
        assert_eq!(bytes(1), [0x02]);
        assert_eq!(bytes(-2), [0x03]);
        assert_eq!(bytes(2), [0x04]);
        assert_eq!(bytes(-64), [0x7f]);
        assert_eq!(bytes(64), [0x80, 0x01]);
        assert_eq!(bytes(i64::MAX).len(), MAX_VARINT_LEN);
        assert_eq!(
            bytes(i64::MIN),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }

    #[test]
    fn decode_inverts_encode() {
        for v in [
            0,
            1,
            -1,
            63,
            -64,
            64,
            1 << 40,
            -(1 << 40),
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(decode(encode(v)), v);
        }
        assert_eq!(encode(-1), 1);
        assert_eq!(encode(i64::MIN), u64::MAX);
    }
}

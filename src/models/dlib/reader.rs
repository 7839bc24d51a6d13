//! dlib's serialisation primitives: its variable-length integers, floats as mantissa and
//! exponent, booleans, strings, tensors and tensor aliases, each refused with its position when
//! malformed or truncated.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DatError {
    #[error("the file ends early, at byte {0}")]
    Truncated(usize),
    #[error("at byte {at}: {what}")]
    Malformed { at: usize, what: String },
    #[error("layer {index} from the top is {found}, but this network has {expected} there")]
    Architecture {
        index: usize,
        expected: String,
        found: String,
    },
    #[error("{0} bytes are left after the network")]
    TrailingBytes(usize),
}

/// A tensor's shape (samples, channels, rows, columns) and its raw little-endian f32 values.
#[derive(Debug, Clone, Copy)]
pub struct Tensor<'a> {
    pub shape: [i64; 4],
    pub data: &'a [u8],
}

/// dlib's primitive encodings over a byte slice.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    pub fn position(&self) -> usize {
        self.at
    }

    fn malformed(&self, what: impl Into<String>) -> DatError {
        DatError::Malformed {
            at: self.at,
            what: what.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DatError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len());
        let end = end.ok_or(DatError::Truncated(self.bytes.len()))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    /// An integer: a control byte (bit 7 = negative, low 4 bits = byte count), then the
    /// magnitude in little-endian bytes.
    pub fn int(&mut self) -> Result<i64, DatError> {
        let control = self.take(1)?[0];
        let len = usize::from(control & 0x0F);
        if control & 0x70 != 0 || len > 8 {
            return Err(self.malformed(format!("{control:#04x} is not an integer's control byte")));
        }
        let mut magnitude = [0u8; 8];
        magnitude[..len].copy_from_slice(self.take(len)?);
        let magnitude = u64::from_le_bytes(magnitude);
        let value = i64::try_from(magnitude).map_err(|_| self.malformed("integer out of range"))?;
        Ok(if control & 0x80 != 0 { -value } else { value })
    }

    /// A non-negative integer that counts or sizes something, bounded by `max`.
    fn count(&mut self, max: i64) -> Result<usize, DatError> {
        let value = self.int()?;
        if !(0..=max).contains(&value) {
            return Err(self.malformed(format!("{value} is not between 0 and {max}")));
        }
        Ok(value as usize)
    }

    /// A bool: the ASCII digit `1` or `0`.
    pub fn boolean(&mut self) -> Result<bool, DatError> {
        match self.take(1)?[0] {
            b'1' => Ok(true),
            b'0' => Ok(false),
            other => Err(self.malformed(format!("{other:#04x} is not a bool"))),
        }
    }

    pub fn string(&mut self) -> Result<&'a str, DatError> {
        let len = self.count(4096)?;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| self.malformed("a string is not UTF-8"))
    }

    /// A float or double: mantissa, then exponent, both integers; the value is
    /// mantissa × 2^exponent (exponents 32000 to 32002 stand for +inf, -inf and NaN).
    pub fn float(&mut self) -> Result<f64, DatError> {
        let mantissa = self.int()?;
        let exponent = self.int()?;
        Ok(match exponent {
            32000 => f64::INFINITY,
            32001 => f64::NEG_INFINITY,
            32002 => f64::NAN,
            e if (-1100..=1100).contains(&e) => mantissa as f64 * 2f64.powi(e as i32),
            e => return Err(self.malformed(format!("float exponent {e}"))),
        })
    }

    /// A tensor (version 2): its four dimensions, then its values as raw little-endian f32.
    pub fn tensor(&mut self) -> Result<Tensor<'a>, DatError> {
        let version = self.int()?;
        if version != 2 {
            return Err(self.malformed(format!("tensor version {version}, expected 2")));
        }
        let mut shape = [0i64; 4];
        for dim in &mut shape {
            *dim = self.count(1 << 24)? as i64;
        }
        let values = shape
            .iter()
            .try_fold(1i64, |n, d| n.checked_mul(*d))
            .filter(|n| *n <= 1 << 26)
            .ok_or_else(|| self.malformed(format!("tensor of shape {shape:?} is too large")))?;
        let data = self.take(values as usize * 4)?;
        Ok(Tensor { shape, data })
    }

    /// The shape of a view into a parameter tensor (version 1), without values.
    pub fn alias(&mut self) -> Result<[i64; 4], DatError> {
        let version = self.int()?;
        if version != 1 {
            return Err(self.malformed(format!("alias tensor version {version}, expected 1")));
        }
        let mut shape = [0i64; 4];
        for dim in &mut shape {
            *dim = self.count(1 << 24)? as i64;
        }
        Ok(shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_floats_and_bools_decode_as_dlib_writes_them() {
        let bytes = [
            0x01, 0x00, // 0
            0x02, 0x80, 0x12, // 4736
            0x81, 0x1c, // -28
            0x03, 0x0a, 0xd7, 0xa3, 0x81, 0x1c, // 0.04f: 0xA3D70A × 2^-28
            0x03, 0x62, 0x90, 0xf5, 0x81, 0x11, // 122.782f
            b'1', b'0',
        ];
        let mut r = Reader::new(&bytes);
        assert_eq!((r.int().unwrap(), r.int().unwrap(), r.int().unwrap()), (0, 4736, -28));
        assert_eq!(r.float().unwrap() as f32, 0.04f32);
        assert_eq!(r.float().unwrap() as f32, 122.782f32);
        assert!(r.boolean().unwrap());
        assert!(!r.boolean().unwrap());
        assert!(matches!(r.int(), Err(DatError::Truncated(_))));
    }

    #[test]
    fn malformed_values_are_refused_with_their_position() {
        assert!(matches!(
            Reader::new(&[0x31]).int(),
            Err(DatError::Malformed { at: 1, .. })
        ));
        // A tensor claiming 2^32 values is refused before anything is allocated.
        let huge = [0x01, 0x02, 0x03, 0, 0, 1, 0x03, 0, 0, 1, 0x01, 1, 0x01, 1];
        assert!(matches!(Reader::new(&huge).tensor(), Err(DatError::Malformed { .. })));
    }
}

//! Reads dlib's serialized face-recognition network (`dlib_face_recognition_resnet_model_v1.dat`)
//! and checks it against the architecture it must have. The format is described in
//! `docs/dlib-network-format.md`.
//!
//! dlib writes a network as nested wrappers: every wrapper's version number from the top of the
//! network down, then the input layer, then each layer's details from the bottom up. Tags and
//! skips leave only a version number and nothing that says which they are, so the reader takes
//! the layer chain from the network's definition ([`chain`]) and refuses a file that differs.

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

/// One step of the network, top (under the loss) to bottom (over the input), as defined in dlib's
/// face-recognition example: a ResNet of 29 convolutions with batch norm turned into affine layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A convolution with `filters` outputs, a square kernel and stride.
    Con {
        filters: i64,
        kernel: i64,
        stride: i64,
    },
    Affine,
    Relu,
    /// Adds the output remembered by tag `n`.
    AddPrev(u8),
    AvgPool {
        size: i64,
        stride: i64,
    },
    /// Average over the whole plane.
    AvgPoolAll,
    MaxPool {
        size: i64,
        stride: i64,
    },
    /// Fully connected, without bias.
    Fc(i64),
    Tag(u8),
    Skip(u8),
}

fn residual(filters: i64) -> [Step; 8] {
    let con = Step::Con {
        filters,
        kernel: 3,
        stride: 1,
    };
    [
        Step::Relu,
        Step::AddPrev(1),
        Step::Affine,
        con,
        Step::Relu,
        Step::Affine,
        con,
        Step::Tag(1),
    ]
}

fn residual_down(filters: i64) -> [Step; 11] {
    let con = |stride| Step::Con {
        filters,
        kernel: 3,
        stride,
    };
    [
        Step::Relu,
        Step::AddPrev(2),
        Step::AvgPool { size: 2, stride: 2 },
        Step::Skip(1),
        Step::Tag(2),
        Step::Affine,
        con(1),
        Step::Relu,
        Step::Affine,
        con(2),
        Step::Tag(1),
    ]
}

/// The network's 130 steps, top to bottom.
pub fn chain() -> Vec<Step> {
    let mut steps = vec![Step::Fc(128), Step::AvgPoolAll];
    steps.extend(residual_down(256));
    for (filters, plain) in [(256, 2), (128, 2), (64, 3), (32, 3)] {
        for _ in 0..plain {
            steps.extend(residual(filters));
        }
        if filters != 32 {
            steps.extend(residual_down(filters));
        }
    }
    steps.extend([
        Step::MaxPool { size: 3, stride: 2 },
        Step::Relu,
        Step::Affine,
        Step::Con {
            filters: 32,
            kernel: 7,
            stride: 2,
        },
    ]);
    steps
}

/// A layer's parameters as read, for the steps that have any.
#[derive(Debug, Clone)]
pub enum Params<'a> {
    None,
    Con {
        /// Filters as (outputs, inputs, rows, columns), the layout ONNX uses too.
        shape: [i64; 4],
        padding: i64,
        weights: &'a [u8],
        bias: &'a [u8],
    },
    Affine {
        channels: i64,
        gamma: &'a [u8],
        beta: &'a [u8],
    },
    Fc {
        inputs: i64,
        outputs: i64,
        /// Row-major `inputs × outputs`: `x · W`.
        weights: &'a [u8],
    },
}

/// The network read from a file.
#[derive(Debug)]
pub struct Network<'a> {
    /// Per-channel means subtracted from R, G and B before dividing by 256.
    pub means: [f32; 3],
    /// Input rows and columns.
    pub input_size: (i64, i64),
    /// Top to bottom, one per [`chain`] step.
    pub layers: Vec<(Step, Params<'a>)>,
}

fn describe(step: &Step) -> String {
    format!("{step:?}")
}

/// Reads the details of one layer and checks them against `step`.
fn layer_details<'a>(r: &mut Reader<'a>, step: Step, index: usize) -> Result<Params<'a>, DatError> {
    let kind = r.string()?;
    let wrong = |found: String| DatError::Architecture {
        index,
        expected: describe(&step),
        found,
    };
    let params = match (kind, step) {
        (
            "con_4" | "con_5" | "con_6",
            Step::Con {
                filters,
                kernel,
                stride,
            },
        ) => {
            let params = r.tensor()?;
            let geometry = [r.int()?, r.int()?, r.int()?, r.int()?, r.int()?, r.int()?, r.int()?];
            let shape = r.alias()?;
            let bias_shape = r.alias()?;
            for _ in 0..4 {
                r.float()?; // learning-rate and weight-decay multipliers: training only
            }
            let use_bias = if kind == "con_4" { true } else { r.boolean()? };
            let fused_relu = kind == "con_6" && r.boolean()?;
            let padding = if stride == 1 { kernel / 2 } else { 0 };
            let expected = [filters, kernel, kernel, stride, stride, padding, padding];
            if geometry != expected || !use_bias || fused_relu || shape[0] != filters || shape[2..] != [kernel, kernel]
            {
                return Err(wrong(format!(
                    "{kind} with filters, kernel, stride and padding {geometry:?}, filter shape {shape:?}"
                )));
            }
            let weight_count: i64 = shape.iter().product();
            let total = params.shape.iter().product::<i64>();
            if bias_shape[1] != filters || total != weight_count + filters {
                return Err(wrong(format!("{kind} with {total} parameters for filters {shape:?}")));
            }
            let (weights, bias) = params.data.split_at(weight_count as usize * 4);
            Params::Con {
                shape,
                padding,
                weights,
                bias,
            }
        }
        ("affine_", Step::Affine) => {
            let params = r.tensor()?;
            let gamma_shape = r.alias()?;
            let _beta_shape = r.alias()?;
            let mode = r.int()?;
            let channels = gamma_shape[1];
            if mode != 0 || params.data.len() as i64 != channels * 8 {
                return Err(wrong(format!(
                    "affine_ in mode {mode} with {} bytes",
                    params.data.len()
                )));
            }
            let (gamma, beta) = params.data.split_at(channels as usize * 4);
            Params::Affine { channels, gamma, beta }
        }
        ("relu_", Step::Relu) | ("add_prev_", Step::AddPrev(_)) => Params::None,
        ("max_pool_2" | "avg_pool_2", Step::MaxPool { .. } | Step::AvgPool { .. } | Step::AvgPoolAll) => {
            let found = [r.int()?, r.int()?, r.int()?, r.int()?, r.int()?, r.int()?];
            // A pool over the whole plane is written with size 0 and stride 1.
            let (size, stride) = match step {
                Step::MaxPool { size, stride } | Step::AvgPool { size, stride } => (size, stride),
                _ => (0, 1),
            };
            let is_max = matches!(step, Step::MaxPool { .. });
            if found != [size, size, stride, stride, 0, 0] || is_max != (kind == "max_pool_2") {
                return Err(wrong(format!("{kind} {found:?}")));
            }
            Params::None
        }
        ("fc_2", Step::Fc(outputs)) => {
            let (num_outputs, num_inputs) = (r.int()?, r.int()?);
            let params = r.tensor()?;
            let _weights_shape = r.alias()?;
            let _bias_shape = r.alias()?;
            let bias_mode = r.int()?;
            for _ in 0..4 {
                r.float()?;
            }
            // 1 is dlib's "no bias".
            if num_outputs != outputs || bias_mode != 1 || params.data.len() as i64 != num_inputs * num_outputs * 4 {
                return Err(wrong(format!("fc_2 {num_inputs}→{num_outputs}, bias mode {bias_mode}")));
            }
            Params::Fc {
                inputs: num_inputs,
                outputs: num_outputs,
                weights: params.data,
            }
        }
        (other, _) => return Err(wrong(other.to_owned())),
    };
    Ok(params)
}

/// Parses a whole file, which must hold exactly this network and nothing after it.
pub fn parse(bytes: &[u8]) -> Result<Network<'_>, DatError> {
    let mut r = Reader::new(bytes);
    let chain = chain();
    let loss_version = r.int()?;
    let loss = r.string()?;
    if loss_version != 1 || loss != "loss_metric_2" {
        return Err(DatError::Architecture {
            index: 0,
            expected: "a metric-learning network (loss_metric_2)".into(),
            found: loss.to_owned(),
        });
    }
    r.float()?; // margin and distance threshold of training
    r.float()?;
    // Wrapper versions, top to bottom: 1 for a tag or skip, 2 for a layer, 3 for the bottom layer.
    let mut versions = Vec::with_capacity(chain.len());
    for (index, step) in chain.iter().enumerate() {
        let version = r.int()?;
        let is_marker = matches!(step, Step::Tag(_) | Step::Skip(_));
        let expected = match (is_marker, index + 1 == chain.len()) {
            (true, _) => 1,
            (false, true) => 3,
            (false, false) => 2,
        };
        if version != expected {
            return Err(DatError::Architecture {
                index,
                expected: describe(step),
                found: format!("a wrapper of version {version}"),
            });
        }
        versions.push(version);
    }
    let input = r.string()?;
    if input != "input_rgb_image_sized" {
        return Err(DatError::Architecture {
            index: chain.len(),
            expected: "input_rgb_image_sized".into(),
            found: input.to_owned(),
        });
    }
    let means = [r.float()? as f32, r.float()? as f32, r.float()? as f32];
    let input_size = (r.int()?, r.int()?);
    let mut layers: Vec<(Step, Params)> = chain.iter().map(|s| (*s, Params::None)).collect();
    for index in (0..chain.len()).rev() {
        if versions[index] == 1 {
            continue;
        }
        let params = layer_details(&mut r, chain[index], index)?;
        for _ in 0..3 {
            r.boolean()?; // set-up and gradient flags
        }
        for _ in 0..3 {
            r.tensor()?; // gradients and cached outputs (empty in a cleaned network)
        }
        if versions[index] == 3 {
            r.int()?; // sample expansion factor
        }
        layers[index].1 = params;
    }
    if r.position() != bytes.len() {
        return Err(DatError::TrailingBytes(bytes.len() - r.position()));
    }
    Ok(Network {
        means,
        input_size,
        layers,
    })
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

    #[test]
    fn the_chain_has_29_convolutions_in_130_steps() {
        let chain = chain();
        assert_eq!(chain.len(), 130);
        assert_eq!(chain.iter().filter(|s| matches!(s, Step::Con { .. })).count(), 29);
        assert_eq!(
            chain
                .iter()
                .filter(|s| matches!(s, Step::Tag(_) | Step::Skip(_)))
                .count(),
            22
        );
    }

    #[test]
    fn another_network_is_refused() {
        let mut bytes = vec![0x01, 0x01, 0x01, 0x0c];
        bytes.extend_from_slice(b"loss_multic_");
        assert!(matches!(parse(&bytes), Err(DatError::Architecture { .. })));
    }
}

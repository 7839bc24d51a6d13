//! Reads dlib's serialized face-recognition network (`dlib_face_recognition_resnet_model_v1.dat`)
//! and checks it against the architecture it must have. The format is described in
//! `docs/dlib-network-format.md`.
//!
//! dlib writes a network as nested wrappers: every wrapper's version number from the top of the
//! network down, then the input layer, then each layer's details from the bottom up. Tags and
//! skips leave only a version number and nothing that says which they are, so the reader takes
//! the layer chain from the network's definition ([`chain`]) and refuses a file that differs.

mod layers;
mod reader;

use layers::layer_details;
pub use reader::{DatError, Reader, Tensor};

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
                expected: format!("{step:?}"),
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

//! One layer's details as dlib writes them, checked against the step the network must have there.

use super::{DatError, Params, Reader, Step};

/// The error for a layer that is not the step the network has at `index`.
struct Expected {
    index: usize,
    step: Step,
}

impl Expected {
    fn wrong(&self, found: String) -> DatError {
        DatError::Architecture {
            index: self.index,
            expected: format!("{:?}", self.step),
            found,
        }
    }
}

/// Reads the details of one layer and checks them against `step`.
pub(super) fn layer_details<'a>(r: &mut Reader<'a>, step: Step, index: usize) -> Result<Params<'a>, DatError> {
    let kind = r.string()?;
    let expected = Expected { index, step };
    match (kind, step) {
        (
            "con_4" | "con_5" | "con_6",
            Step::Con {
                filters,
                kernel,
                stride,
            },
        ) => convolution(r, kind, (filters, kernel, stride), &expected),
        ("affine_", Step::Affine) => affine(r, &expected),
        ("relu_", Step::Relu) | ("add_prev_", Step::AddPrev(_)) => Ok(Params::None),
        ("max_pool_2" | "avg_pool_2", Step::MaxPool { .. } | Step::AvgPool { .. } | Step::AvgPoolAll) => {
            pool(r, kind, &expected)
        }
        ("fc_2", Step::Fc(outputs)) => fully_connected(r, outputs, &expected),
        (other, _) => Err(expected.wrong(other.to_owned())),
    }
}

/// `con_4`, `con_5` or `con_6` (versions of the same layer) with `filters`, `kernel` and `stride`.
fn convolution<'a>(
    r: &mut Reader<'a>,
    kind: &str,
    (filters, kernel, stride): (i64, i64, i64),
    expected: &Expected,
) -> Result<Params<'a>, DatError> {
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
    let wanted = [filters, kernel, kernel, stride, stride, padding, padding];
    if geometry != wanted || !use_bias || fused_relu || shape[0] != filters || shape[2..] != [kernel, kernel] {
        return Err(expected.wrong(format!(
            "{kind} with filters, kernel, stride and padding {geometry:?}, filter shape {shape:?}"
        )));
    }
    let weight_count: i64 = shape.iter().product();
    let total = params.shape.iter().product::<i64>();
    if bias_shape[1] != filters || total != weight_count + filters {
        return Err(expected.wrong(format!("{kind} with {total} parameters for filters {shape:?}")));
    }
    let (weights, bias) = params.data.split_at(weight_count as usize * 4);
    Ok(Params::Con {
        shape,
        padding,
        weights,
        bias,
    })
}

/// `affine_`: batch normalisation folded into a scale and a shift per channel.
fn affine<'a>(r: &mut Reader<'a>, expected: &Expected) -> Result<Params<'a>, DatError> {
    let params = r.tensor()?;
    let gamma_shape = r.alias()?;
    let _beta_shape = r.alias()?;
    let mode = r.int()?;
    let channels = gamma_shape[1];
    if mode != 0 || params.data.len() as i64 != channels * 8 {
        return Err(expected.wrong(format!("affine_ in mode {mode} with {} bytes", params.data.len())));
    }
    let (gamma, beta) = params.data.split_at(channels as usize * 4);
    Ok(Params::Affine { channels, gamma, beta })
}

/// `max_pool_2` or `avg_pool_2`, of the size and stride the step has.
fn pool<'a>(r: &mut Reader<'a>, kind: &str, expected: &Expected) -> Result<Params<'a>, DatError> {
    let found = [r.int()?, r.int()?, r.int()?, r.int()?, r.int()?, r.int()?];
    // A pool over the whole plane is written with size 0 and stride 1.
    let (size, stride) = match expected.step {
        Step::MaxPool { size, stride } | Step::AvgPool { size, stride } => (size, stride),
        _ => (0, 1),
    };
    let is_max = matches!(expected.step, Step::MaxPool { .. });
    if found != [size, size, stride, stride, 0, 0] || is_max != (kind == "max_pool_2") {
        return Err(expected.wrong(format!("{kind} {found:?}")));
    }
    Ok(Params::None)
}

/// `fc_2` with `outputs` outputs and no bias.
fn fully_connected<'a>(r: &mut Reader<'a>, outputs: i64, expected: &Expected) -> Result<Params<'a>, DatError> {
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
        return Err(expected.wrong(format!("fc_2 {num_inputs}→{num_outputs}, bias mode {bias_mode}")));
    }
    Ok(Params::Fc {
        inputs: num_inputs,
        outputs: num_outputs,
        weights: params.data,
    })
}

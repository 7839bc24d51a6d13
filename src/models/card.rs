//! A recognizer's model card: what its ONNX graph expects (tensor names, chip size, colour order,
//! normalisation, alignment template) and how its embeddings are compared, so a site can run a
//! recognizer of its own by describing it in configuration.

use serde::{Deserialize, Serialize};

use crate::domain::{MAX_EMBEDDING_DIM, Metric};

/// dlib's chip template (docs/contracts.md, section 8.2), in a 150×150 chip: eyes, nose tip, mouth corners, with the
/// eye on the image's left first, as YuNet orders its landmarks.
pub const DLIB_TEMPLATE: [[f32; 2]; 5] = [
    [47.55, 46.60],
    [100.48, 46.60],
    [74.01, 76.56],
    [50.41, 103.02],
    [97.61, 103.02],
];
const DLIB_TEMPLATE_SIDE: f32 = 150.0;

/// The five-point template of InsightFace's ArcFace models, in a 112×112 chip, in the same order.
pub const ARCFACE_TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];
const ARCFACE_TEMPLATE_SIDE: f32 = 112.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColourOrder {
    #[default]
    Rgb,
    Bgr,
}

/// Where the five landmarks go in the chip: a published template, scaled to the chip's side, or
/// five points of the site's own in chip pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AlignmentTemplate {
    Named(NamedTemplate),
    Points([[f32; 2]; 5]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamedTemplate {
    Dlib,
    Arcface,
}

impl AlignmentTemplate {
    /// The template's points in a chip of `side` pixels.
    pub fn points(&self, side: u32) -> [[f32; 2]; 5] {
        let scaled = |points: [[f32; 2]; 5], native: f32| {
            let k = side as f32 / native;
            points.map(|[x, y]| [x * k, y * k])
        };
        match self {
            AlignmentTemplate::Named(NamedTemplate::Dlib) => scaled(DLIB_TEMPLATE, DLIB_TEMPLATE_SIDE),
            AlignmentTemplate::Named(NamedTemplate::Arcface) => scaled(ARCFACE_TEMPLATE, ARCFACE_TEMPLATE_SIDE),
            AlignmentTemplate::Points(points) => *points,
        }
    }
}

/// Everything the recognizer stage needs to know about a recognizer model besides its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognizerCard {
    /// Name of the graph's input tensor, `[N, 3, side, side]` f32.
    pub input: String,
    /// Name of the output tensor, `[N, dimension]` f32.
    pub output: String,
    /// Side of the square aligned chip, in pixels.
    pub input_size: u32,
    #[serde(default)]
    pub colour: ColourOrder,
    /// Per channel (in the model's colour order), the input is `(pixel - mean) / std`.
    #[serde(default = "zero_mean")]
    pub mean: [f32; 3],
    #[serde(default = "unit_std")]
    pub std: [f32; 3],
    pub template: AlignmentTemplate,
    #[serde(default)]
    pub metric: Metric,
    /// Values per embedding.
    pub dimension: usize,
}

fn zero_mean() -> [f32; 3] {
    [0.0; 3]
}

fn unit_std() -> [f32; 3] {
    [1.0; 3]
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CardError {
    #[error("input_size {0} is out of range: a chip is 16 to 1024 pixels wide")]
    InputSize(u32),
    #[error("dimension {0} is out of range: 1 to {MAX_EMBEDDING_DIM}")]
    Dimension(usize),
    #[error("std {0:?} must be finite and non-zero in every channel")]
    Std([f32; 3]),
    #[error("mean {0:?} must be finite")]
    Mean([f32; 3]),
    #[error("template point {0:?} lies outside the {1}×{1} chip")]
    TemplateOutside([f32; 2], u32),
    #[error("the template's points are not all distinct: no alignment can be fitted to it")]
    TemplateDegenerate,
    #[error("the tensor names must not be empty")]
    TensorName,
}

impl RecognizerCard {
    /// The card of dlib's descriptor, the built-in recognizer.
    pub fn dlib() -> Self {
        RecognizerCard {
            input: "image".into(),
            output: "embedding".into(),
            input_size: 150,
            colour: ColourOrder::Rgb,
            mean: zero_mean(),
            std: unit_std(),
            template: AlignmentTemplate::Named(NamedTemplate::Dlib),
            metric: Metric::L2,
            dimension: crate::domain::EMBEDDING_DIM,
        }
    }

    /// Rejects a card no model could satisfy, before any model is loaded.
    pub fn validate(&self) -> Result<(), CardError> {
        if !(16..=1024).contains(&self.input_size) {
            return Err(CardError::InputSize(self.input_size));
        }
        if self.dimension == 0 || self.dimension > MAX_EMBEDDING_DIM {
            return Err(CardError::Dimension(self.dimension));
        }
        if self.std.iter().any(|s| !s.is_finite() || *s == 0.0) {
            return Err(CardError::Std(self.std));
        }
        if self.mean.iter().any(|m| !m.is_finite()) {
            return Err(CardError::Mean(self.mean));
        }
        if self.input.is_empty() || self.output.is_empty() {
            return Err(CardError::TensorName);
        }
        let side = self.input_size as f32;
        let points = self.chip_template();
        if let Some(p) = points
            .iter()
            .find(|[x, y]| !(x.is_finite() && y.is_finite() && (0.0..side).contains(x) && (0.0..side).contains(y)))
        {
            return Err(CardError::TemplateOutside(*p, self.input_size));
        }
        let distinct = points
            .iter()
            .enumerate()
            .all(|(i, p)| points[i + 1..].iter().all(|q| p != q));
        if !distinct {
            return Err(CardError::TemplateDegenerate);
        }
        Ok(())
    }

    /// The alignment template in this model's chip pixels.
    pub fn chip_template(&self) -> [[f32; 2]; 5] {
        self.template.points(self.input_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dlib_card_is_valid_and_its_template_is_the_published_one() {
        let card = RecognizerCard::dlib();
        assert_eq!(card.validate(), Ok(()));
        assert_eq!(card.chip_template(), DLIB_TEMPLATE);
    }

    #[test]
    fn named_templates_scale_to_the_chip() {
        let arcface = AlignmentTemplate::Named(NamedTemplate::Arcface);
        assert_eq!(arcface.points(112), ARCFACE_TEMPLATE);
        let doubled = arcface.points(224);
        assert!((doubled[2][0] - 2.0 * ARCFACE_TEMPLATE[2][0]).abs() < 1e-4);
        let dlib_at_112 = AlignmentTemplate::Named(NamedTemplate::Dlib).points(112);
        assert!((dlib_at_112[0][0] - 47.55 * 112.0 / 150.0).abs() < 1e-4);
    }

    #[test]
    fn a_card_reads_from_toml_with_defaults() {
        let card: RecognizerCard = toml::from_str(
            r#"
            input = "data"
            output = "fc1"
            input_size = 112
            colour = "bgr"
            mean = [127.5, 127.5, 127.5]
            std = [127.5, 127.5, 127.5]
            template = "arcface"
            metric = "cosine"
            dimension = 512
            "#,
        )
        .unwrap();
        assert_eq!(card.colour, ColourOrder::Bgr);
        assert_eq!(card.metric, Metric::Cosine);
        assert_eq!(card.template, AlignmentTemplate::Named(NamedTemplate::Arcface));
        assert_eq!(card.validate(), Ok(()));
        let own: RecognizerCard = toml::from_str(
            r#"
            input = "x"
            output = "y"
            input_size = 100
            template = [[30, 40], [70, 40], [50, 60], [35, 80], [65, 80]]
            dimension = 128
            "#,
        )
        .unwrap();
        assert_eq!(own.metric, Metric::L2);
        assert_eq!(own.std, [1.0; 3]);
        assert_eq!(own.chip_template()[4], [65.0, 80.0]);
    }

    #[test]
    fn impossible_cards_are_refused() {
        let with = |change: fn(&mut RecognizerCard)| {
            let mut card = RecognizerCard::dlib();
            change(&mut card);
            card.validate()
        };
        assert_eq!(with(|c| c.input_size = 8), Err(CardError::InputSize(8)));
        assert_eq!(with(|c| c.dimension = 0), Err(CardError::Dimension(0)));
        assert_eq!(with(|c| c.std = [1.0, 0.0, 1.0]), Err(CardError::Std([1.0, 0.0, 1.0])));
        assert_eq!(with(|c| c.input = String::new()), Err(CardError::TensorName));
        assert!(matches!(
            with(|c| c.template = AlignmentTemplate::Points([[10.0, 10.0]; 5])),
            Err(CardError::TemplateDegenerate)
        ));
        assert!(matches!(
            with(|c| c.template =
                AlignmentTemplate::Points([[1.0, 1.0], [200.0, 1.0], [3.0, 3.0], [4.0, 4.0], [5.0, 5.0]])),
            Err(CardError::TemplateOutside([200.0, 1.0], 150))
        ));
    }
}

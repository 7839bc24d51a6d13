//! Writes the recognizer's ONNX graph from a parsed dlib network, encoding the ONNX protobuf
//! messages by hand (the graph is small and fixed; no code generation needed).
//!
//! Names, node order and field order follow the published `dlib_face_recognition_resnet_model_v1.onnx`
//! so the converted file is byte-for-byte that file: its sha256 then proves the conversion.

use std::collections::HashMap;

use super::dlib::{Network, Params, Step};

mod encode;

use encode::{FLOAT, INT64, bytes_field, encode_initializer, encode_node, encode_value_info, int_field};

enum Attribute {
    Int(i64),
    Ints(Vec<i64>),
    Text(&'static str),
}

struct Node {
    op: &'static str,
    inputs: Vec<String>,
    output: String,
    /// Sorted by name, as ONNX's Python helper writes them.
    attributes: Vec<(&'static str, Attribute)>,
}

struct Initializer {
    name: String,
    dims: Vec<i64>,
    element: u64,
    raw: Vec<u8>,
}

/// The graph under construction; every node output and initializer takes `<prefix>_<n>` from one counter.
#[derive(Default)]
struct Graph {
    counter: usize,
    nodes: Vec<Node>,
    initializers: Vec<Initializer>,
}

impl Graph {
    fn name(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_{}", self.counter)
    }

    fn initializer(&mut self, prefix: &str, dims: Vec<i64>, element: u64, raw: Vec<u8>) -> String {
        let name = self.name(prefix);
        self.initializers.push(Initializer {
            name: name.clone(),
            dims,
            element,
            raw,
        });
        name
    }

    fn floats(&mut self, prefix: &str, dims: Vec<i64>, raw: &[u8]) -> String {
        self.initializer(prefix, dims, FLOAT, raw.to_vec())
    }

    fn node(
        &mut self,
        op: &'static str,
        inputs: Vec<String>,
        prefix: &str,
        mut attributes: Vec<(&'static str, Attribute)>,
    ) -> String {
        let output = self.name(prefix);
        attributes.sort_by_key(|(name, _)| *name);
        self.nodes.push(Node {
            op,
            inputs,
            output: output.clone(),
            attributes,
        });
        output
    }
}

/// Channels, rows and columns of a value in the graph.
type Shape = (i64, i64, i64);

fn pooled(size: i64, stride: i64, padding: i64, length: i64) -> i64 {
    1 + (length + 2 * padding - size) / stride
}

/// The graph as it is being built: the value the next layer reads, and its shape.
struct Builder {
    g: Graph,
    current: String,
    shape: Shape,
    /// Values saved by `tag` layers, for `skip` and `add_prev`.
    tags: HashMap<u8, (String, Shape)>,
}

/// Builds the graph of `network`, bottom to top, as dlib evaluates it.
fn build(network: &Network) -> Graph {
    let mut g = Graph::default();
    let means: Vec<u8> = network.means.iter().flat_map(|m| m.to_le_bytes()).collect();
    let mean = g.floats("mean", vec![1, 3, 1, 1], &means);
    let mut current = g.node("Sub", vec!["image".into(), mean], "sub", vec![]);
    // dlib scales by 256, not 255.
    let scale = g.floats("scale", vec![], &256f32.to_le_bytes());
    current = g.node("Div", vec![current, scale], "div", vec![]);
    let (rows, cols) = network.input_size;
    let mut b = Builder {
        g,
        current,
        shape: (3, rows, cols),
        tags: HashMap::new(),
    };
    for (step, params) in network.layers.iter().rev() {
        b.layer(step, params);
    }
    let Builder { mut g, current, .. } = b;
    g.nodes.push(Node {
        op: "Identity",
        inputs: vec![current],
        output: "embedding".into(),
        attributes: vec![],
    });
    g
}

impl Builder {
    /// Appends one layer's nodes.
    fn layer(&mut self, step: &Step, params: &Params) {
        let (channels, rows, cols) = self.shape;
        match (step, params) {
            (
                Step::Con { kernel, stride, .. },
                Params::Con {
                    shape,
                    padding,
                    weights,
                    bias,
                },
            ) => self.convolution((*kernel, *stride, *padding), shape, weights, bias),
            (Step::Affine, Params::Affine { channels, gamma, beta }) => {
                let gamma = self.g.floats("gamma", vec![1, *channels, 1, 1], gamma);
                self.apply("Mul", gamma, "mul");
                let beta = self.g.floats("beta", vec![1, *channels, 1, 1], beta);
                self.apply("Add", beta, "add");
            }
            (Step::Relu, _) => self.current = self.g.node("Relu", vec![self.current.clone()], "relu", vec![]),
            (Step::MaxPool { size, stride } | Step::AvgPool { size, stride }, _) => {
                let (op, prefix) = match step {
                    Step::MaxPool { .. } => ("MaxPool", "maxpool"),
                    _ => ("AveragePool", "averagepool"),
                };
                let attributes = vec![
                    ("kernel_shape", Attribute::Ints(vec![*size, *size])),
                    ("strides", Attribute::Ints(vec![*stride, *stride])),
                ];
                self.current = self.g.node(op, vec![self.current.clone()], prefix, attributes);
                self.shape = (
                    channels,
                    pooled(*size, *stride, 0, rows),
                    pooled(*size, *stride, 0, cols),
                );
            }
            (Step::AvgPoolAll, _) => {
                let input = vec![self.current.clone()];
                self.current = self.g.node("GlobalAveragePool", input, "globalaveragepool", vec![]);
                self.shape = (channels, 1, 1);
            }
            (Step::Tag(id), _) => {
                self.tags.insert(*id, (self.current.clone(), self.shape));
            }
            (Step::Skip(id), _) => (self.current, self.shape) = self.tags[id].clone(),
            (Step::AddPrev(id), _) => self.add_previous(*id),
            (
                Step::Fc(_),
                Params::Fc {
                    inputs,
                    outputs,
                    weights,
                },
            ) => {
                let flat = vec![("axis", Attribute::Int(1))];
                self.current = self.g.node("Flatten", vec![self.current.clone()], "flatten", flat);
                let w = self.g.floats("fcw", vec![*inputs, *outputs], weights);
                self.apply("MatMul", w, "embedding_raw");
            }
            (step, _) => unreachable!("the parser pairs every step with its parameters: {step:?}"),
        }
    }

    /// `current = op(current, operand)`.
    fn apply(&mut self, op: &'static str, operand: String, prefix: &str) {
        self.current = self.g.node(op, vec![self.current.clone(), operand], prefix, vec![]);
    }

    fn convolution(
        &mut self,
        (kernel, stride, padding): (i64, i64, i64),
        filters: &[i64; 4],
        weights: &[u8],
        bias: &[u8],
    ) {
        let (_, rows, cols) = self.shape;
        let w = self.g.floats("w", filters.to_vec(), weights);
        let b = self.g.floats("b", vec![filters[0]], bias);
        let attributes = vec![
            ("kernel_shape", Attribute::Ints(vec![kernel, kernel])),
            ("strides", Attribute::Ints(vec![stride, stride])),
            ("pads", Attribute::Ints(vec![padding; 4])),
        ];
        self.current = self
            .g
            .node("Conv", vec![self.current.clone(), w, b], "conv", attributes);
        self.shape = (
            filters[0],
            pooled(kernel, stride, padding, rows),
            pooled(kernel, stride, padding, cols),
        );
    }

    /// dlib adds tensors of different shapes as if the smaller were zero-padded at the end of
    /// each axis (more channels, more rows and columns).
    fn add_previous(&mut self, id: u8) {
        let (tagged, tagged_shape) = self.tags[&id].clone();
        let shape = self.shape;
        let sum = (
            shape.0.max(tagged_shape.0),
            shape.1.max(tagged_shape.1),
            shape.2.max(tagged_shape.2),
        );
        let left = self.padded(self.current.clone(), shape, sum);
        let right = self.padded(tagged, tagged_shape, sum);
        self.current = self.g.node("Add", vec![left, right], "add", vec![]);
        self.shape = sum;
    }

    fn padded(&mut self, value: String, from: Shape, to: Shape) -> String {
        if from == to {
            return value;
        }
        let pads = [0, 0, 0, 0, 0, to.0 - from.0, to.1 - from.1, to.2 - from.2];
        let raw = pads.iter().flat_map(|p| i64::to_le_bytes(*p)).collect();
        let pads = self.g.initializer("pads", vec![8], INT64, raw);
        self.g.node(
            "Pad",
            vec![value, pads],
            "pad",
            vec![("mode", Attribute::Text("constant"))],
        )
    }
}

const GRAPH_NAME: &str = "dlib_face_recognition_resnet_model_v1";
const PRODUCER: &str = "dlib_to_onnx.py";
const DOC: &str = "dlib_face_recognition_resnet_model_v1 (Davis King, public domain/CC0) converted to ONNX. \
Input: RGB float 0..255, aligned 150x150 dlib face chip (padding 0.25). \
Output: raw 128-d dlib descriptor; same person if L2 distance < 0.6.";

/// The ONNX model (IR 8, opset 13) of `network`: input `image` `[N,3,rows,cols]` RGB 0–255,
/// output `embedding` `[N,outputs]`.
pub fn model_bytes(network: &Network) -> Vec<u8> {
    let g = build(network);
    let outputs = network
        .layers
        .iter()
        .find_map(|(_, p)| match p {
            Params::Fc { outputs, .. } => Some(*outputs),
            _ => None,
        })
        .unwrap_or(128);
    let mut graph = Vec::new();
    for node in &g.nodes {
        bytes_field(&mut graph, 1, &encode_node(node));
    }
    bytes_field(&mut graph, 2, GRAPH_NAME.as_bytes());
    for t in &g.initializers {
        bytes_field(&mut graph, 5, &encode_initializer(t));
    }
    let (rows, cols) = network.input_size;
    bytes_field(&mut graph, 11, &encode_value_info("image", &[3, rows, cols]));
    bytes_field(&mut graph, 12, &encode_value_info("embedding", &[outputs]));
    let mut model = Vec::new();
    int_field(&mut model, 1, 8);
    bytes_field(&mut model, 2, PRODUCER.as_bytes());
    bytes_field(&mut model, 6, DOC.as_bytes());
    bytes_field(&mut model, 7, &graph);
    let mut opset = Vec::new();
    bytes_field(&mut opset, 1, b"");
    int_field(&mut opset, 2, 13);
    bytes_field(&mut model, 8, &opset);
    model
}

#[cfg(test)]
mod tests {
    use super::encode::varint;
    use super::*;

    #[test]
    fn varints_and_fields_encode_as_protobuf_does() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        let mut attribute = Vec::new();
        bytes_field(&mut attribute, 1, b"kernel_shape");
        int_field(&mut attribute, 8, 7);
        int_field(&mut attribute, 8, 7);
        int_field(&mut attribute, 20, 7);
        let mut node = Vec::new();
        bytes_field(&mut node, 5, &attribute);
        let expected: Vec<u8> = [
            &[0x2a, 0x15, 0x0a, 0x0c][..],
            b"kernel_shape",
            &[0x40, 0x07, 0x40, 0x07, 0xa0, 0x01, 0x07],
        ]
        .concat();
        assert_eq!(node, expected);
    }

    #[test]
    fn a_scalar_initializer_has_no_dims() {
        let t = Initializer {
            name: "scale_3".into(),
            dims: vec![],
            element: FLOAT,
            raw: 256f32.to_le_bytes().to_vec(),
        };
        let expected: Vec<u8> = [
            &[0x10, 0x01, 0x42, 0x07][..],
            b"scale_3",
            &[0x4a, 0x04, 0x00, 0x00, 0x80, 0x43],
        ]
        .concat();
        assert_eq!(encode_initializer(&t), expected);
    }
}

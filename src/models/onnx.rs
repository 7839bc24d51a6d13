//! Writes the recognizer's ONNX graph from a parsed dlib network, encoding the ONNX protobuf
//! messages by hand (the graph is small and fixed; no code generation needed).
//!
//! Names, node order and field order follow the published `dlib_face_recognition_resnet_model_v1.onnx`
//! so the converted file is byte-for-byte that file: its sha256 then proves the conversion.

use std::collections::HashMap;

use super::dlib::{Network, Params, Step};

/// Protobuf wire types.
const VARINT: u64 = 0;
const LEN: u64 = 2;

/// ONNX tensor element types.
const FLOAT: u64 = 1;
const INT64: u64 = 7;

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn key(out: &mut Vec<u8>, field: u64, wire: u64) {
    varint(out, (field << 3) | wire);
}

fn bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    key(out, field, LEN);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn int_field(out: &mut Vec<u8>, field: u64, value: i64) {
    key(out, field, VARINT);
    // Negative int64 values are ten-byte varints in protobuf.
    varint(out, value as u64);
}

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
    let mut shape: Shape = (3, rows, cols);
    let mut tags: HashMap<u8, (String, Shape)> = HashMap::new();
    for (step, params) in network.layers.iter().rev() {
        let (channels, rows, cols) = shape;
        match (step, params) {
            (
                Step::Con { kernel, stride, .. },
                Params::Con {
                    shape: filters,
                    padding,
                    weights,
                    bias,
                },
            ) => {
                let w = g.floats("w", filters.to_vec(), weights);
                let b = g.floats("b", vec![filters[0]], bias);
                let attributes = vec![
                    ("kernel_shape", Attribute::Ints(vec![*kernel, *kernel])),
                    ("strides", Attribute::Ints(vec![*stride, *stride])),
                    ("pads", Attribute::Ints(vec![*padding; 4])),
                ];
                current = g.node("Conv", vec![current, w, b], "conv", attributes);
                shape = (
                    filters[0],
                    pooled(*kernel, *stride, *padding, rows),
                    pooled(*kernel, *stride, *padding, cols),
                );
            }
            (Step::Affine, Params::Affine { channels, gamma, beta }) => {
                let gamma = g.floats("gamma", vec![1, *channels, 1, 1], gamma);
                current = g.node("Mul", vec![current, gamma], "mul", vec![]);
                let beta = g.floats("beta", vec![1, *channels, 1, 1], beta);
                current = g.node("Add", vec![current, beta], "add", vec![]);
            }
            (Step::Relu, _) => current = g.node("Relu", vec![current], "relu", vec![]),
            (Step::MaxPool { size, stride } | Step::AvgPool { size, stride }, _) => {
                let (op, prefix) = match step {
                    Step::MaxPool { .. } => ("MaxPool", "maxpool"),
                    _ => ("AveragePool", "averagepool"),
                };
                let attributes = vec![
                    ("kernel_shape", Attribute::Ints(vec![*size, *size])),
                    ("strides", Attribute::Ints(vec![*stride, *stride])),
                ];
                current = g.node(op, vec![current], prefix, attributes);
                shape = (
                    channels,
                    pooled(*size, *stride, 0, rows),
                    pooled(*size, *stride, 0, cols),
                );
            }
            (Step::AvgPoolAll, _) => {
                current = g.node("GlobalAveragePool", vec![current], "globalaveragepool", vec![]);
                shape = (channels, 1, 1);
            }
            (Step::Tag(id), _) => {
                tags.insert(*id, (current.clone(), shape));
            }
            (Step::Skip(id), _) => {
                (current, shape) = tags[id].clone();
            }
            (Step::AddPrev(id), _) => {
                // dlib adds tensors of different shapes as if the smaller were zero-padded at the
                // end of each axis (more channels, more rows and columns).
                let (tagged, tagged_shape) = tags[id].clone();
                let sum = (
                    channels.max(tagged_shape.0),
                    rows.max(tagged_shape.1),
                    cols.max(tagged_shape.2),
                );
                let mut padded = |value: String, from: Shape| {
                    if from == sum {
                        return value;
                    }
                    let pads = [0, 0, 0, 0, 0, sum.0 - from.0, sum.1 - from.1, sum.2 - from.2];
                    let raw = pads.iter().flat_map(|p| i64::to_le_bytes(*p)).collect();
                    let pads = g.initializer("pads", vec![8], INT64, raw);
                    g.node(
                        "Pad",
                        vec![value, pads],
                        "pad",
                        vec![("mode", Attribute::Text("constant"))],
                    )
                };
                let left = padded(current, shape);
                let right = padded(tagged, tagged_shape);
                current = g.node("Add", vec![left, right], "add", vec![]);
                shape = sum;
            }
            (
                Step::Fc(_),
                Params::Fc {
                    inputs,
                    outputs,
                    weights,
                },
            ) => {
                current = g.node("Flatten", vec![current], "flatten", vec![("axis", Attribute::Int(1))]);
                let w = g.floats("fcw", vec![*inputs, *outputs], weights);
                current = g.node("MatMul", vec![current, w], "embedding_raw", vec![]);
            }
            (step, _) => unreachable!("the parser pairs every step with its parameters: {step:?}"),
        }
    }
    g.nodes.push(Node {
        op: "Identity",
        inputs: vec![current],
        output: "embedding".into(),
        attributes: vec![],
    });
    g
}

fn encode_node(node: &Node) -> Vec<u8> {
    let mut out = Vec::new();
    for input in &node.inputs {
        bytes_field(&mut out, 1, input.as_bytes());
    }
    bytes_field(&mut out, 2, node.output.as_bytes());
    bytes_field(&mut out, 4, node.op.as_bytes());
    for (name, value) in &node.attributes {
        let mut a = Vec::new();
        bytes_field(&mut a, 1, name.as_bytes());
        let kind = match value {
            Attribute::Int(i) => {
                int_field(&mut a, 3, *i);
                2
            }
            Attribute::Text(s) => {
                bytes_field(&mut a, 4, s.as_bytes());
                3
            }
            Attribute::Ints(values) => {
                // onnx.proto is proto2: repeated numbers are not packed.
                for v in values {
                    int_field(&mut a, 8, *v);
                }
                7
            }
        };
        int_field(&mut a, 20, kind);
        bytes_field(&mut out, 5, &a);
    }
    out
}

fn encode_initializer(t: &Initializer) -> Vec<u8> {
    let mut out = Vec::new();
    for dim in &t.dims {
        int_field(&mut out, 1, *dim);
    }
    int_field(&mut out, 2, t.element as i64);
    bytes_field(&mut out, 8, t.name.as_bytes());
    bytes_field(&mut out, 9, &t.raw);
    out
}

/// A float tensor value with a symbolic batch dimension `N` and fixed others.
fn encode_value_info(name: &str, fixed: &[i64]) -> Vec<u8> {
    let mut shape = Vec::new();
    let mut batch = Vec::new();
    bytes_field(&mut batch, 2, b"N");
    bytes_field(&mut shape, 1, &batch);
    for d in fixed {
        let mut dim = Vec::new();
        int_field(&mut dim, 1, *d);
        bytes_field(&mut shape, 1, &dim);
    }
    let mut tensor = Vec::new();
    int_field(&mut tensor, 1, FLOAT as i64);
    bytes_field(&mut tensor, 2, &shape);
    let mut kind = Vec::new();
    bytes_field(&mut kind, 1, &tensor);
    let mut out = Vec::new();
    bytes_field(&mut out, 1, name.as_bytes());
    bytes_field(&mut out, 2, &kind);
    out
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

//! The protobuf wire format, by hand: varints, keys, length-delimited fields, and the ONNX
//! messages the graph is made of (nodes, initializers, value infos).

use super::{Attribute, Initializer, Node};

/// Protobuf wire types.
pub(super) const VARINT: u64 = 0;
pub(super) const LEN: u64 = 2;

/// ONNX tensor element types.
pub(super) const FLOAT: u64 = 1;
pub(super) const INT64: u64 = 7;

pub(super) fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(super) fn key(out: &mut Vec<u8>, field: u64, wire: u64) {
    varint(out, (field << 3) | wire);
}

pub(super) fn bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    key(out, field, LEN);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub(super) fn int_field(out: &mut Vec<u8>, field: u64, value: i64) {
    key(out, field, VARINT);
    // Negative int64 values are ten-byte varints in protobuf.
    varint(out, value as u64);
}

pub(super) fn encode_node(node: &Node) -> Vec<u8> {
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

pub(super) fn encode_initializer(t: &Initializer) -> Vec<u8> {
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
pub(super) fn encode_value_info(name: &str, fixed: &[i64]) -> Vec<u8> {
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

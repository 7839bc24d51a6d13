"""Write tests/fixtures/reference_embedding.json: a dlib ResNet embedding computed by ONNX Runtime
in Python, for a Rust test to reproduce exactly (same chip, same model, compare the 128 floats).

The "fixed aligned face" chip needs no detector or warp, so Rust can rebuild it bit-for-bit:
  1. decode the PNG with PIL, convert("RGB") (drops alpha);
  2. box-downscale by integer K: out[r,c,ch] = float32(int64 sum of the K*K block at (r*K, c*K))
     / float32(K*K), size floor(H/K) x floor(W/K);
  3. take the 150x150 window with top-left (X, Y) in the downscaled image;
  4. feed as "image", f32 NCHW [1,3,150,150], RGB, 0-255, to dlib_face_recognition_resnet_model_v1.onnx.
K, X, Y were chosen once by running YuNet on the photo, fitting the 5 landmarks to the docs/contracts.md (section 8.2)
150x150 template with scale 1/K and no rotation, and rounding: landmarks land at eyes (39.7,42.5)
(101.7,37.8), nose (80.6,78.2), mouth (48.9,109.7) (100.5,105.7); this chip's embedding is
L2 0.26 from the properly aligned one. Also stored: the same chip as item 2 of a batch of 2
(item 1 = the chip mirrored left-right), to show batching does not change the values.

Usage: python scripts/reference/embedding_fixture.py  (needs numpy, pillow, onnxruntime==1.31.1)
"""
import hashlib
import json
import os

import numpy as np
import onnxruntime as ort
from PIL import Image

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")
FACES = os.environ.get("ROLLCALL_FACES", os.path.join(SHARED, "faces"))
MODELS = os.environ.get("ROLLCALL_MODELS", os.path.join(SHARED, "models"))
PHOTO = "face_recognition/lin_manuel_miranda/lin-manuel-miranda.png"
MODEL = "dlib_face_recognition_resnet_model_v1.onnx"
K, X, Y = 2, 135, 97
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "reference_embedding.json")


def chip():
    rgb = np.asarray(Image.open(os.path.join(FACES, PHOTO)).convert("RGB")).astype(np.int64)
    h, w = rgb.shape[0] // K, rgb.shape[1] // K
    sums = rgb[: h * K, : w * K].reshape(h, K, w, K, 3).sum(axis=(1, 3))
    small = sums.astype(np.float32) / np.float32(K * K)
    return np.ascontiguousarray(small[Y : Y + 150, X : X + 150])  # HWC, RGB, f32


def main():
    model_path = os.path.join(MODELS, MODEL)
    with open(model_path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    c = chip()
    nchw = lambda *hwc: np.ascontiguousarray(np.stack(hwc).transpose(0, 3, 1, 2))
    single = sess.run(["embedding"], {"image": nchw(c)})[0][0]
    batch = sess.run(["embedding"], {"image": nchw(c[:, ::-1], c)})[0]
    out = {
        "photo": PHOTO, "k": K, "x": X, "y": Y,
        "model_sha256": sha, "onnxruntime": ort.__version__,
        "chip_f32_hwc_sha256": hashlib.sha256(c.astype("<f4").tobytes()).hexdigest(),
        "chip_sum": float(c.astype(np.float64).sum()),
        "embedding": [float(v) for v in single],
        "embedding_batch_of_2_second": [float(v) for v in batch[1]],
        "batch_max_abs_diff": float(np.abs(batch[1] - single).max()),
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)}; |e|={np.linalg.norm(single):.6f}, "
          f"batch diff {out['batch_max_abs_diff']:.3g}")


if __name__ == "__main__":
    main()

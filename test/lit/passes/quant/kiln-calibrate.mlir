// REQUIRES: python
// RUN: %python -c "import numpy as np; x = np.array([[-1.0, 0.5, 2.0, 3.0], [0.0, -0.5, 1.0, 1.5]], np.float32).reshape(2, 1, 4); np.savez('%t.npz', x=x)"
// RUN: kiln-opt --kiln-calibrate="data=%t.npz" %s | FileCheck %s --check-prefix=MINMAX
// RUN: kiln-opt --kiln-calibrate="data=%t.npz observer=mse" %s | FileCheck %s --check-prefix=MSE
// RUN: not kiln-opt --kiln-calibrate="data=%t.npz observer=median" %s 2>&1 | FileCheck %s --check-prefix=BADOBS
// RUN: not kiln-opt --kiln-calibrate %s 2>&1 | FileCheck %s --check-prefix=NODATA
// RUN: not kiln-opt --kiln-calibrate="data=%t.missing.npz" %s 2>&1 | FileCheck %s --check-prefix=MISSING

// Two samples of shape 1x4 (the array stacks them along the first axis).
// MINMAX: func.func @main(%arg0: tensor<1x4xf32> {kiln.name = "x", kiln.range = array<f64: -1.000000e+00, 3.000000e+00>})
// MINMAX: kiln.relu %arg0 {kiln.ranges = [array<f64: 0.000000e+00, 3.000000e+00>]}
// MINMAX: kiln.neg %{{.+}} {kiln.ranges = [array<f64: -3.000000e+00, 0.000000e+00>]}
// The mse observer clips, so its ranges lie inside the extremes.
// MSE: kiln.relu %arg0 {kiln.ranges = [array<f64: 0.000000e+00, {{[0-2]\.[0-9]+e\+00|3.000000e\+00}}>]}
// BADOBS: error: unknown observer 'median' (expected minmax, percentile or mse)
// NODATA: error: kiln-calibrate needs calibration data (data=PATH)
// MISSING: error: {{.*}}missing.npz: no such file or folder
func.func @main(%x: tensor<1x4xf32> {kiln.name = "x"}) -> tensor<1x4xf32> {
  %r = kiln.relu %x : tensor<1x4xf32>
  %n = kiln.neg %r : tensor<1x4xf32>
  return %n : tensor<1x4xf32>
}

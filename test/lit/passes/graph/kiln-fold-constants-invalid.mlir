// RUN: kiln-opt --kiln-fold-constants --verify-diagnostics %s

// An evaluation error on constants is reported on the op.
func.func @out_of_range() -> tensor<1xf32> {
  %c = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32> : tensor<2xf32>
  %i = kiln.constant dense<[5]> : tensor<1xi64> : tensor<1xi64>
  // expected-error @+1 {{cannot be evaluated on its constant operands: gather index 5 is out of range for dimension of size 2}}
  %g = kiln.gather %c, %i {axis = 0 : i64} : (tensor<2xf32>, tensor<1xi64>) -> tensor<1xf32>
  return %g : tensor<1xf32>
}

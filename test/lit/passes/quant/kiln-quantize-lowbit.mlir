// REQUIRES: python
// RUN: %python %S/Inputs/lowbit_data.py %t.npz
// The smoothing run checks its remarks; the other schemes leave layers whose
// width their groups do not divide in float, with remarks not checked here.
// RUN: kiln-opt --split-input-file --verify-diagnostics --kiln-quantize-lowbit="scheme=w8a8-smooth data=%t.npz smooth-alpha=0.5" %s | FileCheck %s --check-prefix=SMOOTH
// RUN: kiln-opt --split-input-file --kiln-quantize-lowbit="scheme=w4a4-svd data=%t.npz rank=2" %s | FileCheck %s --check-prefix=SVD
// RUN: kiln-opt --split-input-file --kiln-quantize-lowbit="scheme=w4a8 data=%t.npz kv-bits=4 report=%t.json" %s | FileCheck %s --check-prefix=QOQ
// RUN: FileCheck %s --check-prefix=REPORT < %t.json
// RUN: kiln-opt --split-input-file --kiln-quantize-lowbit="scheme=nvfp4-4over6 fp4-error=mae" %s | FileCheck %s --check-prefix=NVFP4
// RUN: kiln-opt --split-input-file --kiln-quantize-lowbit="scheme=w4a16" %s | FileCheck %s --check-prefix=W4A16

// The smoothing divisor folds into the constant gain that produces the
// layer input: channel maxima [4, 1, 1, 0.25], weight column maxima 1,
// alpha 0.5 give s = [2, 1, 1, 0.5], so the gain becomes 1 / s and the
// weight columns are multiplied by s before int8 quantization (row maxima
// 2 and 1: codes round(w * s * 127 / max) with ties away from zero).
// SMOOTH-LABEL: func.func @smooth_into_gain
// SMOOTH-DAG: %[[G:.+]] = kiln.constant dense<[5.000000e-01, 1.000000e+00, 1.000000e+00, 2.000000e+00]> : tensor<4xf32>
// SMOOTH: %[[H:.+]] = kiln.mul %arg0, %[[G]]
// SMOOTH: %[[W:.+]] = kiln.constant dense<{{\[\[}}127, 16, -64, 16], [-127, 127, 64, -64]]> : tensor<2x4xi8>
// SMOOTH: kiln.lowbit_linear %[[H]], %[[W]], %{{.+}} {act_format = "int8", weight_format = "int8"} : (tensor<1x2x4xf32>, tensor<2x4xi8>, tensor<2xf32>) -> tensor<1x2x2xf32>
// SMOOTH-NOT: kiln.matmul
// SVD-LABEL: func.func @smooth_into_gain
// QOQ-LABEL: func.func @smooth_into_gain
// NVFP4-LABEL: func.func @smooth_into_gain
// W4A16-LABEL: func.func @smooth_into_gain
func.func @smooth_into_gain(%x: tensor<1x2x4xf32> {kiln.name = "x_gain"}) -> tensor<1x2x2xf32> {
  %g = kiln.constant dense<1.0> : tensor<4xf32> : tensor<4xf32>
  %h = kiln.mul %x, %g : (tensor<1x2x4xf32>, tensor<4xf32>) -> tensor<1x2x4xf32>
  %w = kiln.constant dense<[[1.0, -0.5], [0.25, 1.0], [-1.0, 0.5], [0.5, -1.0]]> : tensor<4x2xf32> : tensor<4x2xf32>
  %y = kiln.matmul %h, %w : (tensor<1x2x4xf32>, tensor<4x2xf32>) -> tensor<1x2x2xf32>
  return %y : tensor<1x2x2xf32>
}

// -----

// Three layers reading one value (Q, K, V) share one smoothing scale: one
// new gain, three low-bit layers on its output.
// SMOOTH-LABEL: func.func @shared_input
// SMOOTH: %[[H:.+]] = kiln.mul %arg0, %{{.+}} : (tensor<1x3x8xf32>, tensor<8xf32>)
// SMOOTH-NOT: kiln.mul
// SMOOTH-COUNT-3: kiln.lowbit_linear %[[H]],
func.func @shared_input(%x: tensor<1x3x8xf32> {kiln.name = "x_qkv"}) -> (tensor<1x3x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>) {
  %g = kiln.constant dense<[1.0, 2.0, 1.0, 1.0, 30.0, 1.0, 1.0, 0.5]> : tensor<8xf32> : tensor<8xf32>
  %h = kiln.mul %x, %g : (tensor<1x3x8xf32>, tensor<8xf32>) -> tensor<1x3x8xf32>
  %wq = kiln.constant dense<0.25> : tensor<8x8xf32> : tensor<8x8xf32>
  %wk = kiln.constant dense<-0.5> : tensor<8x8xf32> : tensor<8x8xf32>
  %wv = kiln.constant dense<0.125> : tensor<8x8xf32> : tensor<8x8xf32>
  %q = kiln.matmul %h, %wq : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  %k = kiln.matmul %h, %wk : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  %v = kiln.matmul %h, %wv : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  return %q, %k, %v : tensor<1x3x8xf32>, tensor<1x3x8xf32>, tensor<1x3x8xf32>
}

// -----

// A layer norm whose output also feeds a residual: the layers read a copy
// of it with the divided scale and bias; the residual keeps the original.
// SMOOTH-LABEL: func.func @layer_norm_copy
// SMOOTH: %[[LN:.+]], %{{.+}}, %{{.+}} = kiln.layer_norm %arg0, %[[S:.+]], %[[B:.+]] {axis = 2
// SMOOTH: %[[COPY:.+]], %{{.+}}, %{{.+}} = kiln.layer_norm %arg0, %[[S2:[^,]+]], %[[B2:[^ ]+]] {axis = 2
// SMOOTH: %[[Y:.+]] = kiln.lowbit_linear %[[COPY]], {{.*}} bias(%{{.+}})
// SMOOTH: kiln.add %[[LN]], %[[Y]]
func.func @layer_norm_copy(%x: tensor<1x3x8xf32> {kiln.name = "x_ln"}) -> tensor<1x3x8xf32> {
  %s = kiln.constant dense<[1.0, 1.0, 12.0, 1.0, 1.0, 1.0, 1.0, 1.0]> : tensor<8xf32> : tensor<8xf32>
  %b = kiln.constant dense<0.1> : tensor<8xf32> : tensor<8xf32>
  %n, %mean, %inv = kiln.layer_norm %x, %s, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<1x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<1x3x8xf32>, tensor<1x3x1xf32>, tensor<1x3x1xf32>)
  %w = kiln.constant dense<0.25> : tensor<8x8xf32> : tensor<8x8xf32>
  %bias = kiln.constant dense<1.0> : tensor<8xf32> : tensor<8xf32>
  %m = kiln.matmul %n, %w : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  %y = kiln.add %m, %bias : (tensor<1x3x8xf32>, tensor<8xf32>) -> tensor<1x3x8xf32>
  %r = kiln.add %n, %y : (tensor<1x3x8xf32>, tensor<1x3x8xf32>) -> tensor<1x3x8xf32>
  return %r : tensor<1x3x8xf32>
}

// -----

// Nothing before a tanh can absorb the scale: an explicit multiplication by
// 1 / s, marked kiln.smooth, feeds the layer, and a remark says why.
// SMOOTH-LABEL: func.func @explicit_mul
// SMOOTH: %[[T:.+]] = kiln.tanh %arg0
// SMOOTH: %[[M:.+]] = kiln.mul %[[T]], %{{.+}} {kiln.smooth}
// SMOOTH: kiln.lowbit_linear %[[M]],
func.func @explicit_mul(%x: tensor<1x3x8xf32> {kiln.name = "x_tanh"}) -> tensor<1x3x8xf32> {
  %t = kiln.tanh %x : tensor<1x3x8xf32>
  %w = kiln.constant dense<0.25> : tensor<8x8xf32> : tensor<8x8xf32>
  // expected-remark @+1 {{smoothing scale not folded ('kiln.tanh' does not commute with a per-channel scale): multiplying the input by 1/s}}
  %y = kiln.matmul %t, %w : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  return %y : tensor<1x3x8xf32>
}

// -----

// SwiGLU: the down projection's scale goes through the product into the
// up projection's output channels (no multiplication for it); the gate and
// up projections read a function argument, which cannot absorb theirs.
// SMOOTH-LABEL: func.func @glu
// SMOOTH: kiln.mul %arg0, %{{.+}} {kiln.smooth}
// SMOOTH-NOT: kiln.smooth
// SMOOTH-COUNT-3: kiln.lowbit_linear
func.func @glu(%x: tensor<1x3x8xf32> {kiln.name = "x_glu"}) -> tensor<1x3x8xf32> {
  %wg = kiln.constant dense<0.5> : tensor<8x8xf32> : tensor<8x8xf32>
  %wu = kiln.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]> : tensor<8x8xf32> : tensor<8x8xf32>
  %wd = kiln.constant dense<0.125> : tensor<8x8xf32> : tensor<8x8xf32>
  // expected-remark @+1 {{smoothing scale not folded (a function argument cannot absorb the scale): multiplying the input by 1/s}}
  %gate = kiln.matmul %x, %wg : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  %up = kiln.matmul %x, %wu : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  %sig = kiln.sigmoid %gate : tensor<1x3x8xf32>
  %silu = kiln.mul %gate, %sig : (tensor<1x3x8xf32>, tensor<1x3x8xf32>) -> tensor<1x3x8xf32>
  %p = kiln.mul %silu, %up : (tensor<1x3x8xf32>, tensor<1x3x8xf32>) -> tensor<1x3x8xf32>
  %y = kiln.matmul %p, %wd : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  return %y : tensor<1x3x8xf32>
}

// -----

// SVDQuant: the residual is a W4A4 layer, the rank-2 branch two matmuls
// with fp16-valued float32 constants, added to it.
// SVD-LABEL: func.func @svd
// SVD-DAG: %[[DOWN:.+]] = kiln.constant {{.*}} : tensor<64x2xf32>
// SVD-DAG: %[[UP:.+]] = kiln.constant {{.*}} : tensor<2x4xf32>
// SVD: %[[Q:.+]] = kiln.lowbit_linear %[[X:.+]], %{{.+}}, %{{.+}} {act_format = "int4-sym", act_group_size = 64 : i64, weight_format = "int4-sym", weight_group_size = 64 : i64} : (tensor<1x8x64xf32>, tensor<4x64xi4>, tensor<4x1xf32>) -> tensor<1x8x4xf32>
// SVD: %[[T:.+]] = kiln.matmul %[[X]], %[[DOWN]] {kiln.lowrank = "down"} : (tensor<1x8x64xf32>, tensor<64x2xf32>) -> tensor<1x8x2xf32>
// SVD: %[[U:.+]] = kiln.matmul %[[T]], %[[UP]] {kiln.lowrank = "up"}
// SVD: kiln.add %[[Q]], %[[U]] {kiln.lowrank = "merge"}
// SMOOTH-LABEL: func.func @svd
// QOQ-LABEL: func.func @svd
// NVFP4-LABEL: func.func @svd
// W4A16-LABEL: func.func @svd
func.func @svd(%x: tensor<1x8x64xf32> {kiln.name = "x_svd"}) -> tensor<1x8x4xf32> {
  %g = kiln.constant dense<1.5> : tensor<64xf32> : tensor<64xf32>
  %h = kiln.mul %x, %g : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %w = kiln.constant dense<"0x78FD503E9DD982BED7402B3DF58E68BDB86739BD019EB0BCB9D84EBEBFFFBDBC1532B1BD3823AA3EE2F6B83C057010BD3F6EE6BCDED088BD4718D8BD741220BDA367453D516CC3BC2426C43D8BADA3BCCCFC1E3BC44A1E3E75465F3D13F14EBD1DC895BC2B665D3D2C27463E7BDFDCBCF585C7BC1946CD3D088CB5BD2BFAEEBC76BEB43D1CB66D3DE3F0153CC43C893D4ACD90BEE429D13D0689C4BDDEDD2ABEE176E23CBA788F3D3F2D36BDAB72DCBD33362B3BA6D7ACBBEAEE0F3EB411993D16C69E3C98A9E33D4F5DA8BCCE9FBDBDF43A6F3D959B6E3DE3FCAFBCB751A0BD0FB9BB3CF15F7FBE6A568D3DB243493DA8D127BE0E0BC93B9772C5BD31149B3D794C50BEDA49BBBD6D52913DB8D4EC3DD1FA5CBE43FF4BBD665B063DF18879BDAEE1223E96F6F3BD5E37113DA5B6D6BD7AF80F3EBCE40DBB4D7918BD30F12FBE0C382C3E472B9A3D73549A3DC009E93D100B0F3DEFEA82BDB0E3A3BD86E1A3BDA04B0C3E048B15BEE04574BDDE9403BD0602B83CC2A96B3DA8D0FFBD442731BED46EE7B9B289F83DA50B9B3D3FA9B03C2EE801BD9037F03C1157C7BC295DA73DECB3A2BD51F05B3C8F8035BC5D8F5E3D1D06B83CD08F823E5676193E1144193E5FD850BEC9640BBD734979BDE9335A3D505F69BE8E89F03DA884DA3D025505BE2068C8BD7D14A4BD3CDF8D3B5845833D1BB4513E4FBFA1BC3D2F9D3DF4A27E3C6937343E72FE973DBB230C3E38B5DCBDCD7B9DBC1DA9A6BD4B1B1A3E45AF863D6DF9F9BCB25439BDCC84463D92AA8FBDA895BEBD4A21453D87397C3EF3A1C9BCC0AE63BD59DAEFBD83B408BE7B08573D953EAE3D8282703A1F39083DF0EA3D3C0F2C633C58471CBE2FA53BBDD0A5363C7F64A0BD482543BD7DC1A7BDA99908BD71B7AE3D0A8926BD0A1A7CBC47A6A63D870C843DD9962D3ED01056BE167CAF3D278B45BDD8AD5C3C9F90AB3DAAD9DD3DE9DBD43D76207E3C57D4243EFFCFE7BC1AFC66BC06B5A33D96D761BDDC465D3EC7BBD03D67C75E3E41412EBBBFE91CBD81D8883CF770963D429C70BD9D861B3DCE41DCBA2172253EA9B887BD0241D63DFEDC83BDE6BCC4BD267891BD04C0F3BDCAC76F3CC433D33D549B863C3CB97F3D7822273EA634DD3C83E09F3C9254E1BC1BAF24BE33989B3D8FDC33BE0BAB853D13B3BBBACDC3E63DD111DEBB6597A8BD9D99123D047965BD663D94BCC333893B3D725CBCB5AA9ABC187CAABD3BF09ABC51F75ABEEFE280BCA35CF5BD156EE53D5E0A023EF8C847BE826E6D3CDF084FBC0B5ED6BDDFC3593DA81B3DBD8D0035BE2676DABCDDE572BC68602E3C1228FCBDD32E7C3D229F963D59AAEABD02EF86BDE99F03BC92CD67BD7B8F323ECDB2AA3C9AF7CEBD9B67A1BD8C51BCBB77166B3EBD0892BC7CDB503C918D523D137C83BB288A693E6EB659BDAD69983D486E833C"> : tensor<64x4xf32> : tensor<64x4xf32>
  %y = kiln.matmul %h, %w : (tensor<1x8x64xf32>, tensor<64x4xf32>) -> tensor<1x8x4xf32>
  return %y : tensor<1x8x4xf32>
}

// -----

// QoQ W4A8: uint4 codes, per-channel float scales s1, per-group (128)
// uint8 scaled zeros and scales; int8 activations.
// QOQ-LABEL: func.func @qoq
// QOQ: kiln.lowbit_linear %{{.+}}, %{{.+}}, %{{.+}} zeros(%{{.+}}) group_scales(%{{.+}}) {act_format = "int8", weight_format = "qoq", weight_group_size = 128 : i64} : (tensor<1x4x128xf32>, tensor<4x128xui4>, tensor<4xf32>, tensor<4x1xui8>, tensor<4x1xui8>) -> tensor<1x4x4xf32>
// NVFP4-LABEL: func.func @qoq
// NVFP4: kiln.lowbit_linear %{{.+}}, %{{.+}}, %{{.+}} tensor_scale(%{{.+}}) {act_format = "nvfp4-4over6", act_group_size = 16 : i64, fp4_error = "mae", weight_format = "nvfp4-4over6", weight_group_size = 16 : i64} : (tensor<1x4x128xf32>, tensor<4x128xf4E2M1FN>, tensor<4x8xf8E4M3FN>, tensor<1xf32>) -> tensor<1x4x4xf32>
// W4A16-LABEL: func.func @qoq
// W4A16: kiln.lowbit_linear %{{.+}}, %{{.+}}, %{{.+}} zeros(%{{.+}}) {weight_format = "int4-asym", weight_group_size = 128 : i64} : (tensor<1x4x128xf32>, tensor<4x128xui4>, tensor<4x1xf32>, tensor<4x1xui4>) -> tensor<1x4x4xf32>
// SMOOTH-LABEL: func.func @qoq
// SVD-LABEL: func.func @qoq
func.func @qoq(%x: tensor<1x4x128xf32> {kiln.name = "x_qoq"}) -> tensor<1x4x4xf32> {
  %g = kiln.constant dense<2.0> : tensor<128xf32> : tensor<128xf32>
  %h = kiln.mul %x, %g : (tensor<1x4x128xf32>, tensor<128xf32>) -> tensor<1x4x128xf32>
  %w = kiln.constant dense<"0x29717E3DFAF9F0BD030E353E551C47BC71E45F3BAF7BBFBD0C7195BDCB1C673D0109CA3D3D449A3DDC98F73DCC53923D08873A3B0E52AB3DD023733D53C824BC1FB3943DC9A7033E2C29C03CD0E611BD2D31933D48A2423E107EACBC763D17BC45795FBC5679FA3D0D213CBEABD9153DF72CF43DB494A6BDA678183E38435B3D97E260BD393BA73CCA211DBE6CA867BD30133B3E130DB7BD57E23C3E71A605BCFBB4CB3D7ED78F3B188765BED88E6ABD2F879B3CE9B6EBBD90F909BE5FFD153D0D0085BD18A72DBE561B8CBD7047B03DE00B42BD0171BF3D8A641C3ECA17553BF15BE7BDBF4705BEA90E2CBBB170B43D9A60DC3C1328603DC19735BD381BF63C4E0C41BDAC5E05BD775304BE9FFE20BED26845BD1BD6E2BDE359C4BD376E893DFE702FBC0834953E01B7BD3D44AD81BDFE559F3D9925123D706D8CBDBBCFE13D8CC99EBDD1969CBEDD9FA23D4FD47CBD952B183E890D85BDFCF0F1BDFE8F1E3E1643DCBDC09EA63CBB73143EAB973B3CC30704BC81CF273C93D6AB3D313CA5BD5A1E7A3DBE5E6C3DA5DE6E3E42D709BD6F5BBBBD30AB963DF5AC22BD0ED8EC3CA036593C7E49EF3D338586BDD73017BC0DAB82BE9A4BB6BD33521D3E8A928BBD96A98FBD696DF9BD08806D3D3ECF913C0112F3BD9FB1883D2814D53C116D9A3D006083BDDBF8313EBCE1273D04833FBCB88354BD0590C8BC6FE1AF3D6756DCBCCACDDC3D4FD86D3D90E1093E82BAA63D493DCEBB338443BECA96F43C4F9AA13DFD70853C18EA633DF42C41BDF7D71BBD5400C1BD67750B3EAFC1813CE9B849BDB76108BEBB2D7BBCB6B9133EFF333D3DCC6194BD5A61123E8947123EEBDCC83DB98CA13D70ADEC3DD7845E3D5DB89E3DCBBF9FBD028E193E0062BD3C7F474F3E4E2051BEBE77903DDA00C93D17770CBD3952393DDB41993DD77E6C3D600B5DBD0A8D68BC04B3D03D2ECC023EE629223C876BFC3B223FA43C8B83D43DF9DDD7BDAA1808BE7AAD4B3CFA9DE2BDE47A70BD0E630D3C4FA2453D7D90DBBD362BA43DDDA035BE05675F3D4B8F21BE5A8D02BEED86833D2B7226BD2BEEA2BD392E36BD347A3E3DBD19B1BB1E9040BBA904D83D80B792BDD54D41BDC1FC55BD3065EF3D350ACB3DF1CB033E1F305DBBE17380BCDDA5AE3D108D21BDD71EAA3DCD55943DFA038FBD604E08BC7E6143BC7A7E313E1E7F843E87B823BC3B59B83A5EA269BE8A49AD3C7A5D38BAEAB7DBBDC3E3A03D4C5520BEEE01B0BCBF80633C91CBFFBDE475AF3DD62DD83D31F80DBEA52910BE7CAF763D7BDD47BB6A18F8BD89D9F1BCC42730BCE15A6ABC3D78A93D1B5E1D3D6F31353E09BC0C3E91F38A3DFB95DC3D238F073E7696903D3208FBBD3602B03DA4D2EC3B29C4253EEA25193C4E72573D4005073D51282C3ED325913C9DCEDCBC4035FD3CC80534BD17BE843CF3DF43BA6183DE3CBDF1443EBD2B26BDC04E723B746CA3BC37C0893D8AFCF1BDFADE8DBD476681BBC1B35F3D7EA797BBD1EA4CBDB886B1BD279D513D5FAE133EF33F043DC61E9A3C75CF353D290EC1BDF652FFBC3E7CDBBC69DCF13C31E251BB651EF9BD6972E63D794D2D3E6F9CD7BC805D233DD8DBDA3CF9B2A03DA08717BE152C253EDFA13FBDEE74013EEE2B043CDE8F1FBD221E66BCB3BDB73D88CCB0BD41AC19BD438045BD73A92FBEDF29053EE51C6D3DACB00BBB7051EE3D78E0C3BD2CAEF0BB66AE303EBCA2C83DD9E263BE429AAABE0E90D4BDCF59D93D888341BD3D60B2BCE225793D184AB5BDBB63AE3CC238A23DE3493F3DE42D223D1C9976BDEAA6523D43282FBD67A0053EB896833E618897BD44AB5EBE9B422EBD135B1A3D2011D73D7DFBDC3DA18DA0BD6174A2BD89C5013E94B8DFBD8547DF3DD9DDB9BC9FF59C3D5E9F903DF50E9F3DFD05A83D95A0CABDB3BAF33C3045B73ADAA5FC3CBC91FC3D8517DEBCC1CF91BD381E95BD579FFEBC78229A3DCEDFA6BD806AED3D16F0ED3CE63AB9BC6E5C08BE36A6C83CE89C8D3D7ED034BE031DF43DB3BA283E8AA60A3DF76E493D9129773E8D4AFC3D55DCB7BDFA2BDABAD58E80BC513277BCDD1972BEDB089B3D4F6782BD3310863CFB0C5FBC7C66B23D9453F2BC57E7A2BD8B145A3D3CDC0F3E95FE02BD5E480C3ECBC7D63CBC345ABD192D1C3E99A7A7BD55ADCF3D960E4CBDD968383DEAC0FCBDFA89ABBD6A1FDA3DF71A9A3C05F57A3B3D2534BDE4E0363D93140FBEDC5CE5BD0A4381BC5ADCAABD4A7B8FBD484DEABBA15061BC0A47B6BC34862A3E7E11CF3D81D9FB3DFF8F38BBFCB74EBD18E114BEDA980EBD139A55BEB7196FBD21849C3D710B263E9DC1C53DAD74B0BDCCC6493DEC9EA1BD878BA83D447436BC67C2AF3D75BB833ED8EEBC3DC7D76E3E5A5C913C690D07BD4392083EF992303E805563BD8D1BFB3B55E512BEA9E0A3BC31EEB53D6D880DBC0F2769BDF31910BE48D6163D1A56A33DA153743D9527D13CDC7602BEC268343E2442B9BB083C6DBC901A963DA1825DBE0A3FD3BBB81D60BCB77C183DFDF2093EC669413D5C9B3BBEC6E20ABD1F5FA83C6A1E713C8A3303BE6F5E2ABEF7DF603D44B60C3D43990BBBE7AE30BEAAA9353EF27D94BE5E2215BD4822563E99F680BCA71CBE3C3C7DF1BDEF1F0B3E565D04BE916BD03C87075D3C3A30D7BD44A7B53D7DFE10BE46FA8BBD4E1A3CBB85F528BD169D3F3D163FBD3DD3A8F0BCD2C85DBD19C153BD4EBF15BDECD0A53DE23EB2BC1AF8263D3F5815BC4CF2ACBDCAE3B03D4297D4BDB678223A7045183E4ADEDFBD7DD7B4BB164822BE2BA850BD090C19BE2A1B14BD947C5CBDE838583C7F3B223E28D2E73C4CCB863DDF23A6BB5250C8BCABCCAABD626838BEF0DAE03B7FD2263EA917433DCDB85ABD31E6283EDD3331BD"> : tensor<128x4xf32> : tensor<128x4xf32>
  %y = kiln.matmul %h, %w : (tensor<1x4x128xf32>, tensor<128x4xf32>) -> tensor<1x4x4xf32>
  return %y : tensor<1x4x4xf32>
}

// -----

// KV4: SmoothAttention folds the key scales into the key and query
// projections (here too narrow for QoQ's groups of 128: they stay float
// with the folded weights), and the keys (K^T: groups along axis 2) and
// values (axis 3) are quantized per head and token.
// QOQ-LABEL: func.func @attention
// QOQ: %[[KT:.+]] = kiln.transpose %{{.+}} {perm = array<i64: 0, 2, 3, 1>}
// QOQ: %[[KQ:.+]] = kiln.fake_quant %[[KT]] {axis = 2 : i64, format = "int4-asym", group_size = 4 : i64} : tensor<1x2x4x4xf32>
// QOQ: kiln.matmul %{{.+}}, %[[KQ]]
// QOQ: %[[VQ:.+]] = kiln.fake_quant %{{.+}} {axis = 3 : i64, format = "int4-asym", group_size = 4 : i64} : tensor<1x2x4x4xf32>
// QOQ: kiln.matmul %{{.+}}, %[[VQ]]
// REPORT: "scheme": "w4a8"
// REPORT: "kv_bits": 4
// REPORT: "attention": [
// REPORT-NEXT: "scores: SmoothAttention folded (RoPE pairing none)"
// SMOOTH-LABEL: func.func @attention
// SMOOTH-NOT: kiln.fake_quant
func.func @attention(%x: tensor<1x4x8xf32> {kiln.name = "x_attn"}) -> tensor<1x2x4x4xf32> {
  %g = kiln.constant dense<1.0> : tensor<8xf32> : tensor<8xf32>
  %h = kiln.mul %x, %g : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  %wq = kiln.constant dense<0.5> : tensor<8x8xf32> : tensor<8x8xf32>
  %wk = kiln.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [-1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]> : tensor<8x8xf32> : tensor<8x8xf32>
  %wv = kiln.constant dense<0.25> : tensor<8x8xf32> : tensor<8x8xf32>
  %q = kiln.matmul %h, %wq : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %k = kiln.matmul %h, %wk : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %v = kiln.matmul %h, %wv : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %q4 = kiln.reshape %q : (tensor<1x4x8xf32>) -> tensor<1x4x2x4xf32>
  %k4 = kiln.reshape %k : (tensor<1x4x8xf32>) -> tensor<1x4x2x4xf32>
  %v4 = kiln.reshape %v : (tensor<1x4x8xf32>) -> tensor<1x4x2x4xf32>
  %qh = kiln.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x2x4xf32>) -> tensor<1x2x4x4xf32>
  %kt = kiln.transpose %k4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x4x2x4xf32>) -> tensor<1x2x4x4xf32>
  %vh = kiln.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x2x4xf32>) -> tensor<1x2x4x4xf32>
  %s = kiln.matmul %qh, %kt : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> loc("scores")
  %c = kiln.constant dense<2.0> : tensor<1xf32> : tensor<1xf32>
  %sc = kiln.div %s, %c : (tensor<1x2x4x4xf32>, tensor<1xf32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %sc {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = kiln.matmul %p, %vh : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %o : tensor<1x2x4x4xf32>
}

# QDQ input path (test/e2e/qdq_check.py): onnxruntime's quantize_static makes
# a QDQ model; `kiln run --quantize int8` compiles it without calibration
# data, must keep its scales, match onnxruntime layer by layer within one
# integer step (and end to end within one output step where --end-to-end),
# and `kiln compile --target host` must run bit-exact with the evaluator.
# name | model | calibration | inputs | extra flags
set(KILN_QDQ_CHECKS
  "digits.int8|digits/digits_cnn_b1.onnx|digits/digits_calib.npz|digits/digits_test.npz|--activation=int8,--end-to-end,--host"
  "digits.uint8|digits/digits_cnn_b1.onnx|digits/digits_calib.npz|digits/digits_test.npz|--activation=uint8,--end-to-end,--host"
  "mobilenetv1.int8|tinyml/mobilenetv1_025.onnx|tinyml/mobilenetv1_025_calib.npz|tinyml/mobilenetv1_025_test.npz|--activation=int8,--end-to-end,--host"
  "mobilenetv1.uint8|tinyml/mobilenetv1_025.onnx|tinyml/mobilenetv1_025_calib.npz|tinyml/mobilenetv1_025_test.npz|--activation=uint8,--end-to-end"
  "resnet8.int8|tinyml/resnet8_cifar.onnx|tinyml/resnet8_cifar_calib.npz|tinyml/resnet8_cifar_test.npz|--activation=int8,--host")

foreach(entry ${KILN_QDQ_CHECKS})
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 name)
  list(GET fields 1 model)
  list(GET fields 2 calib)
  list(GET fields 3 inputs)
  list(GET fields 4 extra)
  string(REPLACE "," ";" extra "${extra}")
  add_test(NAME e2e.qdq.${name}
           COMMAND ${KILN_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/qdq_check.py
                   --kiln $<TARGET_FILE:kiln> --model ${KILN_MODELS}/${model}
                   --calibration ${KILN_MODELS}/${calib}
                   --inputs ${KILN_MODELS}/${inputs}
                   --workdir ${CMAKE_CURRENT_BINARY_DIR}/qdq-${name} ${extra})
  set_tests_properties(e2e.qdq.${name} PROPERTIES LABELS "e2e" TIMEOUT 300)
endforeach()

/*===- consumer.c - Uses Kiln through its C API -------------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Checks the C API: version, options, a failing compile whose error reaches
 * the diagnostics callback with its location. Exits non-zero on surprises.
 *===----------------------------------------------------------------------===*/

#include <kiln-c/Compiler.h>

#include <stdio.h>
#include <string.h>

static int errors = 0;
static int sawMissing = 0;

static void onDiagnostic(kiln_severity_t severity, const char *location,
                         const char *message, void *user_data) {
  (void)user_data;
  if (severity == KILN_SEVERITY_ERROR) {
    ++errors;
    if (strstr(location, "missing.onnx") && strstr(message, "no such file"))
      sawMissing = 1;
  }
}

int main(void) {
  kiln_compiler_t *compiler = NULL;
  kiln_options_t options;
  kiln_status_t status;
  if (kiln_api_version() != KILN_C_API_VERSION)
    return 1;
  kiln_options_init(&options);
  if (strcmp(options.target, "host") != 0)
    return 1;
  if (kiln_compiler_create(onDiagnostic, NULL, &compiler) != KILN_STATUS_OK)
    return 1;
  options.output_dir = "out";
  status = kiln_compile(compiler, "missing.onnx", &options);
  if (status != KILN_STATUS_ERROR || errors != 1 || !sawMissing) {
    printf("expected one 'no such file' error, got %d errors\n", errors);
    return 1;
  }
  if (kiln_compile(NULL, "x", &options) != KILN_STATUS_INVALID_ARGUMENT)
    return 1;
  options.target = "z80";
  if (kiln_compile(compiler, "missing.onnx", &options) != KILN_STATUS_ERROR)
    return 1;
  kiln_compiler_destroy(compiler);
  printf("kiln %s through the C API: ok\n", kiln_version());
  return 0;
}

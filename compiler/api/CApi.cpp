//===- CApi.cpp - The Kiln C API --------------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Implements kiln-c/Compiler.h on top of kiln::Compiler: converts options,
// forwards every diagnostic to the callback, maps results to kiln_status_t.
//
//===----------------------------------------------------------------------===//

#include "kiln-c/Compiler.h"
#include "kiln/Compiler.h"

#include <memory>
#include <sstream>

struct kiln_compiler_t {
  kiln::Compiler compiler;
  kiln_diagnostic_callback_t callback = nullptr;
  void *userData = nullptr;

  /// Delivers every diagnostic of |status| (notes after their parent).
  void report(const kiln::Status &status) {
    if (!callback)
      return;
    for (const kiln::Diagnostic &diag : status.diagnostics()) {
      callback(static_cast<kiln_severity_t>(diag.severity),
               diag.location.c_str(), diag.message.c_str(), userData);
      for (const kiln::Diagnostic &note : diag.notes)
        callback(KILN_SEVERITY_NOTE, note.location.c_str(),
                 note.message.c_str(), userData);
    }
  }
};

namespace {

/// Converts C options; returns false (after reporting) on malformed input.
bool convertOptions(kiln_compiler_t *compiler, const kiln_options_t *in,
                    kiln::CompileOptions &out) {
  if (!in)
    return true;
  auto set = [](std::string &field, const char *value) {
    if (value)
      field = value;
  };
  set(out.target, in->target);
  set(out.quantize, in->quantize);
  set(out.calibrationPath, in->calibration_path);
  set(out.observer, in->observer);
  set(out.outputDir, in->output_dir);
  set(out.modelName, in->model_name);
  set(out.harnessPath, in->harness_path);
  set(out.memoryPlanner, in->memory_planner);
  out.report = in->report != 0;
  kiln::Status status;
  if (in->input_shapes) {
    std::stringstream list(in->input_shapes);
    std::string item;
    while (std::getline(list, item, ';')) {
      if (item.empty())
        continue;
      kiln::InputShape shape;
      status.append(kiln::parseInputShape(item, shape));
      out.inputShapes.push_back(shape);
    }
  }
  status.append(kiln::validate(out));
  compiler->report(status);
  return status.succeeded();
}

} // namespace

extern "C" {

int kiln_api_version(void) { return KILN_C_API_VERSION; }

const char *kiln_version(void) { return kiln::version(); }

void kiln_options_init(kiln_options_t *out_options) {
  if (!out_options)
    return;
  *out_options = kiln_options_t{};
  out_options->target = "host";
  out_options->quantize = "none";
  out_options->observer = "minmax";
  out_options->memory_planner = "default";
}

kiln_status_t kiln_compiler_create(kiln_diagnostic_callback_t callback,
                                   void *user_data,
                                   kiln_compiler_t **out_compiler) {
  if (!out_compiler)
    return KILN_STATUS_INVALID_ARGUMENT;
  auto compiler = std::make_unique<kiln_compiler_t>();
  compiler->callback = callback;
  compiler->userData = user_data;
  *out_compiler = compiler.release();
  return KILN_STATUS_OK;
}

void kiln_compiler_destroy(kiln_compiler_t *compiler) { delete compiler; }

kiln_status_t kiln_compile(kiln_compiler_t *compiler, const char *model_path,
                           const kiln_options_t *options) {
  if (!compiler || !model_path)
    return KILN_STATUS_INVALID_ARGUMENT;
  kiln::CompileOptions opts;
  if (!convertOptions(compiler, options, opts))
    return KILN_STATUS_ERROR;
  auto output = compiler->compiler.compile(model_path, opts);
  compiler->report(output.status());
  return output ? KILN_STATUS_OK : KILN_STATUS_ERROR;
}

kiln_status_t kiln_import(kiln_compiler_t *compiler, const char *model_path,
                          const kiln_options_t *options,
                          const char *out_mlir_path) {
  if (!compiler || !model_path || !out_mlir_path)
    return KILN_STATUS_INVALID_ARGUMENT;
  kiln::CompileOptions opts;
  if (!convertOptions(compiler, options, opts))
    return KILN_STATUS_ERROR;
  auto module = compiler->compiler.loadModel(model_path, opts);
  compiler->report(module.status());
  if (!module)
    return KILN_STATUS_ERROR;
  kiln::Status status = compiler->compiler.runPipeline(*module, opts);
  if (status.succeeded())
    status.append(module->writeText(out_mlir_path));
  compiler->report(status);
  return status.succeeded() ? KILN_STATUS_OK : KILN_STATUS_ERROR;
}

} // extern "C"

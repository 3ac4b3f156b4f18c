/*===- kiln-c/Compiler.h - The Kiln C API ------------------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * A small C99 interface to the Kiln compiler for toolchains that embed it
 * without C++: create a compiler, compile a model into a folder, import a
 * model to MLIR text. Opaque handles, status returns, outputs last as out_*,
 * diagnostics delivered through a callback (the library never prints).
 *
 * Thread-safety: one kiln_compiler_t may be used from one thread at a time;
 * distinct compilers are independent. Strings passed in are borrowed for
 * the duration of the call; strings passed to the callback are valid only
 * during the callback.
 *===----------------------------------------------------------------------===*/

#ifndef KILN_C_COMPILER_H
#define KILN_C_COMPILER_H

#include <stddef.h>

#if defined(KILN_STATIC)
#define KILN_API
#elif defined(_WIN32)
#define KILN_API __declspec(dllimport)
#else
#define KILN_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** The version of this interface; bumped on incompatible changes. */
#define KILN_C_API_VERSION 1

/** Results of fallible calls. */
typedef enum kiln_status {
  KILN_STATUS_OK = 0,
  /** The request failed; diagnostics went to the callback. */
  KILN_STATUS_ERROR = 1,
  /** A required argument was NULL or a handle was invalid. */
  KILN_STATUS_INVALID_ARGUMENT = 2
} kiln_status_t;

/** Severity of a diagnostic. */
typedef enum kiln_severity {
  KILN_SEVERITY_NOTE = 0,
  KILN_SEVERITY_REMARK = 1,
  KILN_SEVERITY_WARNING = 2,
  KILN_SEVERITY_ERROR = 3
} kiln_severity_t;

/** Receives each diagnostic: |location| (e.g. "model.onnx: node 'conv1'",
 * possibly empty) and |message| are valid only during the call. */
typedef void (*kiln_diagnostic_callback_t)(kiln_severity_t severity,
                                           const char *location,
                                           const char *message,
                                           void *user_data);

/** Options of a compilation; fill with kiln_options_init, then set fields.
 * NULL string fields keep their defaults. */
typedef struct kiln_options {
  /** "host", "cortex-m4", "cortex-m7", "cortex-m55", "cuda-sm80",
   * "cuda-sm90"; default "host". */
  const char *target;
  /** "none" (default), "fp16", "int8". */
  const char *quantize;
  /** Calibration data (.npz, .npy, folder of .npy, test_data_set). */
  const char *calibration_path;
  /** "minmax" (default), "percentile", "mse". */
  const char *observer;
  /** Input shapes for dynamic dimensions: "name=1x3x224x224;other=1x8". */
  const char *input_shapes;
  /** Output folder of kiln_compile. */
  const char *output_dir;
  /** Name in generated symbols; default: the model file's stem. */
  const char *model_name;
  /** Harness data (emits main.c); NULL for none. */
  const char *harness_path;
  /** "default" or "greedy". */
  const char *memory_planner;
  /** Non-zero: write the memory report into the output folder. */
  int report;
} kiln_options_t;

/** Opaque compiler handle. */
typedef struct kiln_compiler_t kiln_compiler_t;

/** Returns KILN_C_API_VERSION of the library. */
KILN_API int kiln_api_version(void);

/** Returns the library's version string, e.g. "0.1.0" (static storage). */
KILN_API const char *kiln_version(void);

/** Fills |out_options| with the defaults. */
KILN_API void kiln_options_init(kiln_options_t *out_options);

/** Creates a compiler; |callback| (may be NULL) receives every diagnostic
 * of calls on it with |user_data|. The caller owns |*out_compiler| and
 * releases it with kiln_compiler_destroy. */
KILN_API kiln_status_t kiln_compiler_create(kiln_diagnostic_callback_t callback,
                                            void *user_data,
                                            kiln_compiler_t **out_compiler);

/** Destroys |compiler| (NULL is allowed). */
KILN_API void kiln_compiler_destroy(kiln_compiler_t *compiler);

/** Compiles |model_path| (.onnx or .mlir) with |options| into
 * options->output_dir. */
KILN_API kiln_status_t kiln_compile(kiln_compiler_t *compiler,
                                    const char *model_path,
                                    const kiln_options_t *options);

/** Imports |model_path| and writes its Kiln IR (MLIR text) to
 * |out_mlir_path|, after the pipeline that |options| selects. */
KILN_API kiln_status_t kiln_import(kiln_compiler_t *compiler,
                                   const char *model_path,
                                   const kiln_options_t *options,
                                   const char *out_mlir_path);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_C_COMPILER_H */

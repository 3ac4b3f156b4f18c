#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The MCU benchmark: every model in models/ compiled by Kiln for Cortex-M4
(QEMU mps2-an386) in several configurations, and the same int8 model under
TF Lite Micro's interpreter.

  .venv/bin/python bench/mcu/bench_mcu.py [--build build] [--work DIR]
      [--models a,b] [--out bench/results/mcu-YYYY-MM-DD.md] [--no-tflm]

Per model and configuration (Kiln default planner; --memory-planner greedy,
i.e. TF Lite Micro's planner with no in-place reuse; --patch 2 and --patch 4;
the default program with the portable kernels, -DKILN_RT_PORTABLE):
  - `kiln compile --target cortex-m4 --quantize int8 --harness` (one test
    sample), then each source compiled to an object and linked with
    bench_wrap.c (-Wl,--wrap) and a map file;
  - flash: .text + .rodata of model.o (code, weights, tables) and of the
    runtime objects after --gc-sections, and of the whole ELF;
  - SRAM: the planner's arena (KILN_<M>_ARENA_BYTES), the peak stack of the
    model call (painted), and the ELF's .data + .bss besides the arena
    (newlib-nano, harness buffers);
  - executed instructions of one inference: qemu-system-arm -icount shift=0
    and the board's timer (bench_wrap.c; +-40 instructions), per model call
    and per conv / depthwise / fully connected kernel call.
TFLM: bench/mcu/kiln_to_tflite.py writes the same int8 model as .tflite,
bench/mcu/tflm_run.py runs it and reports its arena; its outputs are compared
with `kiln run --raw`.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = [
    ("digits", "digits/digits_cnn_b1", "digits/digits_calib", "digits/digits_test"),
    ("mobilenetv2", "tinyml/mobilenetv2_035_96", "tinyml/mobilenetv2_035_96_calib",
     "tinyml/mobilenetv2_035_96_test"),
    ("mobilenetv1", "tinyml/mobilenetv1_025", "tinyml/mobilenetv1_025_calib",
     "tinyml/mobilenetv1_025_test"),
    ("dscnn", "tinyml/ds_cnn_kws", "tinyml/ds_cnn_kws_calib", "tinyml/ds_cnn_kws_test"),
    ("resnet8", "tinyml/resnet8_cifar", "tinyml/resnet8_cifar_calib",
     "tinyml/resnet8_cifar_test"),
    ("mcunet", "tinyml/mcunet_blocks", "tinyml/mcunet_blocks_calib",
     "tinyml/mcunet_blocks_test"),
    ("autoencoder", "tinyml/fc_autoencoder", "tinyml/fc_autoencoder_calib",
     "tinyml/fc_autoencoder_test"),
]

CONFIGS = [
    ("default", []),
    ("greedy", ["--memory-planner", "greedy"]),
    ("patch2", ["--patch", "2"]),
    ("patch4", ["--patch", "4"]),
]

TICK_INSTRUCTIONS = 40  # 25 MHz timer, 1 ns per instruction


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n"
                           f"{r.stdout[-3000:]}{r.stderr[-3000:]}")
    return r.stdout + r.stderr


def map_sizes(map_path):
    """Returns {object file: {'text': n, 'rodata': n, 'data': n, 'bss': n}}
    of the input sections the linker kept."""
    sizes = {}
    text = open(map_path).read()
    body = text[text.index("Linker script and memory map"):]
    pending = None
    for line in body.splitlines():
        m = re.match(r"^ (\.[\w.$]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$", line)
        if not m and pending:
            m2 = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$", line)
            if m2:
                m = (pending, m2.group(1), m2.group(2), m2.group(3))
            pending = None
        elif not m:
            m1 = re.match(r"^ (\.[\w.$]+)$", line)
            pending = m1.group(1) if m1 else None
            continue
        if m is None:
            continue
        sec, addr, size, obj = m if isinstance(m, tuple) else m.groups()
        size = int(size, 16)
        if size == 0 or int(addr, 16) == 0 and not sec.startswith(".text"):
            pass
        kind = None
        for k in ("text", "rodata", "data", "bss"):
            if sec == "." + k or sec.startswith("." + k + "."):
                kind = k
        if sec.startswith(".vectors"):
            kind = "rodata"
        if kind is None:
            continue
        entry = sizes.setdefault(os.path.basename(obj), dict(text=0, rodata=0,
                                                             data=0, bss=0))
        entry[kind] += size
    return sizes


def elf_sections(elf):
    out = run(["arm-none-eabi-size", "-A", elf])
    secs = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].startswith(".") and parts[1].isdigit():
            secs[parts[0]] = int(parts[1])
    return secs


def build(out_dir, model_name, portable):
    """Compiles the emitted folder with bench_wrap.c; returns the ELF."""
    mk = open(os.path.join(out_dir, "Makefile")).read()
    cpu = re.search(r"^CPU := (.*)$", mk, re.M).group(1).split()
    board = re.search(r"-T(\w+)\.ld", mk).group(1)
    obj_dir = os.path.join(out_dir, "bench-portable" if portable else "bench-dsp")
    shutil.rmtree(obj_dir, ignore_errors=True)
    os.makedirs(obj_dir)
    cflags = ["-std=c99", "-O2", *cpu, "-Ikiln_rt/include", "-Ikiln_rt/src",
              "-Iplatform", "-ffunction-sections", "-fdata-sections"]
    if portable:
        cflags.append("-DKILN_RT_PORTABLE")
    run_fn = f"kiln_{model_name}_run"
    sources = ["model.c", "main.c", "platform/startup.c", "platform/semihost.c"]
    sources += sorted("kiln_rt/src/" + f for f in os.listdir(os.path.join(out_dir, "kiln_rt/src"))
                      if f.endswith(".c"))
    objs = []
    for src in sources + [os.path.join(HERE, "bench_wrap.c")]:
        name = os.path.basename(src)
        if src.startswith("kiln_rt/"):
            name = "rt_" + name
        obj = os.path.join(obj_dir, name[:-2] + ".o")
        extra = [f"-DKILN_BENCH_RUN={run_fn}"] if src.endswith("bench_wrap.c") else []
        run(["arm-none-eabi-gcc", *cflags, *extra, "-c", src, "-o", obj], cwd=out_dir)
        objs.append(obj)
    wraps = [run_fn, "kiln_conv2d_s8", "kiln_conv2d_1x1_s8", "kiln_conv2d_3x3_s8",
             "kiln_conv2d_generic_s8", "kiln_dwconv2d_s8", "kiln_dwconv2d_inplace_s8",
             "kiln_fully_connected_s8"]
    elf = os.path.join(obj_dir, "model.elf")
    run(["arm-none-eabi-gcc", *cpu, "--specs=nano.specs", "--specs=rdimon.specs",
         "-Wl,--gc-sections", "-Lplatform", f"-T{board}.ld",
         "-Wl,-Map=" + os.path.join(obj_dir, "model.map"),
         *[f"-Wl,--wrap={w}" for w in wraps], *objs, "-o", elf], cwd=out_dir)
    return elf


def measure(elf):
    """Runs the ELF under QEMU with -icount shift=0; returns the bench lines."""
    out = run(["timeout", "900", "qemu-system-arm", "-M", "mps2-an386",
               "-nographic", "-semihosting", "-icount", "shift=0", "-kernel", elf])
    result = {"layers": []}
    for line in out.splitlines():
        if line.startswith("kiln-bench: run_ticks"):
            f = line.split()
            result["instructions"] = int(f[2]) * TICK_INSTRUCTIONS
            result["stack"] = int(f[4])
            result["status"] = int(f[6])
        elif line.startswith("kiln-bench: layer"):
            f = line.split()
            result["layers"].append(dict(kind=f[3], shape=f"{f[4]}->{f[5]} {f[6]} {f[7]}",
                                         instructions=int(f[8]) * TICK_INSTRUCTIONS))
    if "instructions" not in result:
        raise RuntimeError("no kiln-bench line:\n" + out[-2000:])
    return result


def kiln_config(args, key, model, calib, test, config, flags, samples_npz):
    out_dir = os.path.join(args.work, f"{key}-{config}")
    shutil.rmtree(out_dir, ignore_errors=True)
    model_path = os.path.join(ROOT, "models", model + ".onnx")
    run([os.path.join(args.build, "bin", "kiln"), "compile", model_path,
         "--target", "cortex-m4", "--quantize", "int8", "--calibration",
         os.path.join(ROOT, "models", calib + ".npz"), "--harness", samples_npz,
         "-o", out_dir, "--report", *flags])
    model_c = open(os.path.join(out_dir, "model.c")).read()
    header = open(os.path.join(out_dir, "model.h")).read()
    arena = int(re.search(r"_ARENA_BYTES (\d+)", header).group(1))
    name = re.search(r"int kiln_(\w+)_run\(", header).group(1)
    report = open(os.path.join(out_dir, "memory.md")).read()
    res = {"arena": arena, "patched": "kiln_patch_gather(" in model_c}
    m = re.search(r"Recomputation: the stage's ([\d,]+) MACs become ([\d,]+) "
                  r"\(\+([\d.]+) %\), \+([\d.]+) % of the model's ([\d,]+) MACs", report)
    if m:
        res.update(stage_macs=m.group(1), recompute_stage=float(m.group(3)),
                   recompute_model=float(m.group(4)), model_macs=m.group(5))
    for portable in ([False, True] if config == "default" else [False]):
        elf = build(out_dir, name, portable)
        meas = measure(elf)
        tag = "portable" if portable else "dsp"
        res[tag] = meas
        if not portable:
            secs = elf_sections(elf)
            sizes = map_sizes(os.path.join(os.path.dirname(elf), "model.map"))
            model_o = sizes.get("model.o", {})
            rt = [v for k, v in sizes.items() if k.startswith("rt_")]
            res["flash_model"] = model_o.get("text", 0) + model_o.get("rodata", 0)
            res["flash_runtime"] = sum(v["text"] + v["rodata"] for v in rt)
            res["flash_elf"] = sum(secs.get(s, 0) for s in (
                ".vectors", ".text", ".rodata", ".ARM.exidx", ".init_array",
                ".fini_array", ".data"))
            res["static_other"] = secs.get(".data", 0) + secs.get(".bss", 0) - arena
            res["sram_model"] = arena + meas["stack"]
            res["sram_elf"] = secs.get(".data", 0) + secs.get(".bss", 0) + meas["stack"]
    return res


def tflm(args, key, model, calib, test, samples4):
    work = os.path.join(args.work, f"{key}-tflm")
    os.makedirs(work, exist_ok=True)
    model_path = os.path.join(ROOT, "models", model + ".onnx")
    calib_path = os.path.join(ROOT, "models", calib + ".npz")
    ref = os.path.join(work, "ref.npz")
    run([os.path.join(args.build, "bin", "kiln"), "run", model_path, "--quantize",
         "int8", "--calibration", calib_path, "--inputs", samples4, "--outputs",
         ref, "--raw"])
    tfl = os.path.join(work, f"{key}.tflite")
    run([sys.executable, os.path.join(HERE, "kiln_to_tflite.py"), "--kiln-opt",
         os.path.join(args.build, "bin", "kiln-opt"), "--model", model_path,
         "--calibration", calib_path, "-o", tfl])
    out = run([sys.executable, os.path.join(HERE, "tflm_run.py"), "--tflite", tfl,
               "--inputs", samples4, "--expected", ref])
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(out[-2000:])


def fmt(n):
    return f"{n:,}" if isinstance(n, int) else str(n)


def write_markdown(path, results, args):
    date = datetime.date.today().isoformat()
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    qemu = run(["qemu-system-arm", "--version"]).splitlines()[0]
    gcc = run(["arm-none-eabi-gcc", "--version"]).splitlines()[0]
    L = []
    L.append(f"# MCU benchmark: Kiln vs TF Lite Micro on Cortex-M4 ({date})\n")
    L.append(f"Machine: {platform.node()}, {cpu}, {os.cpu_count()} cores; "
             f"{qemu}; {gcc}. Generated by `bench/mcu/bench_mcu.py` "
             f"(raw numbers: `{os.path.basename(path)[:-3]}.json`).\n")
    L.append("Every program is `kiln compile --target cortex-m4 --quantize int8` "
             "of the model in `models/`, run under `qemu-system-arm -M mps2-an386 "
             "-icount shift=0` (one inference of the first test sample). "
             "Instructions are executed instructions of the model call (timer "
             "ticks x 40, +-40). SRAM = planner arena + peak stack of the model "
             "call (painted); the ELF's other .data/.bss (newlib-nano, the "
             "harness's output buffers) is listed apart. Flash = .text + "
             ".rodata of model.c (code, weights, tables) + the runtime objects "
             "kept by --gc-sections.\n")
    L.append("## Peak SRAM (bytes)\n")
    L.append("| model | TFLM arena (head / total) | Kiln greedy (TFLM planner) | "
             "Kiln default | Kiln --patch 2 | Kiln --patch 4 | default vs greedy | "
             "best vs greedy | best vs TFLM head |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, r in results.items():
        t = r.get("tflm", {})
        g, d = r["greedy"]["arena"], r["default"]["arena"]
        p2 = r["patch2"]["arena"] if r["patch2"]["patched"] else None
        p4 = r["patch4"]["arena"] if r["patch4"]["patched"] else None
        best = min(x for x in (d, p2, p4) if x is not None)
        head = t.get("arena_head")
        L.append(f"| {key} | {fmt(head) if head else '—'} / "
                 f"{fmt(t.get('arena_total', '—'))} | {fmt(g)} | {fmt(d)} | "
                 f"{fmt(p2) if p2 else '—'} | {fmt(p4) if p4 else '—'} | "
                 f"{g / d:.2f}x | {g / best:.2f}x | "
                 f"{(head / best if head else 0):.2f}x |")
    L.append("\nArena only (what the planners place). Stack of the model call "
             "and flash:\n")
    L.append("| model | stack (default) | SRAM model = arena + stack (default) | "
             "other .data+.bss | flash model.c | flash runtime | flash ELF | .tflite |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, r in results.items():
        d = r["default"]
        L.append(f"| {key} | {fmt(d['dsp']['stack'])} | {fmt(d['sram_model'])} | "
                 f"{fmt(d['static_other'])} | {fmt(d['flash_model'])} | "
                 f"{fmt(d['flash_runtime'])} | {fmt(d['flash_elf'])} | "
                 f"{fmt(r.get('tflm', {}).get('tflite_bytes', '—'))} |")
    L.append("\n## Executed instructions per inference (Cortex-M4, QEMU)\n")
    L.append("| model | Kiln default (DSP) | portable kernels | greedy | "
             "--patch 2 | --patch 4 | patch recompute (stage / model MACs) |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for key, r in results.items():
        d = r["default"]
        def ins(c):
            return fmt(r[c]["dsp"]["instructions"]) if r[c]["patched"] or not c.startswith("patch") else "—"
        rc = []
        for c in ("patch2", "patch4"):
            if r[c]["patched"]:
                rc.append(f"{c[5:]}x{c[5:]}: +{r[c]['recompute_stage']:.1f} % / "
                          f"+{r[c]['recompute_model']:.1f} %")
        L.append(f"| {key} | {fmt(d['dsp']['instructions'])} | "
                 f"{fmt(d['portable']['instructions'])} | {ins('greedy')} | "
                 f"{ins('patch2')} | {ins('patch4')} | {'; '.join(rc) or '—'} |")
    L.append("\n## DSP vs portable kernels on the conv layers of the real models\n")
    L.append("Per kernel call of the default program (same program built with "
             "and without `-DKILN_RT_PORTABLE`), summed per kind:\n")
    L.append("| model | kind | calls | portable | DSP | ratio |")
    L.append("| --- | --- | ---: | ---: | ---: | ---: |")
    totals = {}
    for key, r in results.items():
        dsp, por = r["default"]["dsp"]["layers"], r["default"]["portable"]["layers"]
        kinds = {}
        for a, b in zip(por, dsp):
            k = kinds.setdefault(a["kind"], [0, 0, 0])
            k[0] += 1
            k[1] += a["instructions"]
            k[2] += b["instructions"]
        for kind, (n, p, q) in sorted(kinds.items()):
            L.append(f"| {key} | {kind} | {n} | {fmt(p)} | {fmt(q)} | {p / max(q, 1):.2f} |")
            t = totals.setdefault(kind, [0, 0, 0])
            t[0] += n
            t[1] += p
            t[2] += q
    L.append("\nAll models together:\n")
    L.append("| kind | calls | portable | DSP | ratio |")
    L.append("| --- | ---: | ---: | ---: | ---: |")
    conv_p = conv_d = 0
    for kind, (n, p, q) in sorted(totals.items()):
        L.append(f"| {kind} | {n} | {fmt(p)} | {fmt(q)} | {p / max(q, 1):.2f} |")
        if kind in ("conv", "conv1x1", "conv3x3", "convgeneric"):
            conv_p += p
            conv_d += q
    if conv_d:
        L.append(f"| **all convolutions (groups = 1)** | | {fmt(conv_p)} | "
                 f"{fmt(conv_d)} | **{conv_p / conv_d:.2f}** |")
    L.append("\n## TF Lite Micro on the same int8 model\n")
    L.append("`bench/mcu/kiln_to_tflite.py` writes Kiln's lowered int8 module as "
             "a .tflite (same weights, scales, zero points, biases, clamps; PAD + "
             "VALID where PyTorch's pads are not TFLite's SAME); "
             "`bench/mcu/tflm_run.py` runs it with the `tflite-micro` "
             "interpreter (reference kernels, host x86-64) on 4 test samples.\n")
    L.append("| model | outputs vs Kiln (max abs LSB, mismatches / values) | "
             "TFLM arena head | tail (64-bit host) | total |")
    L.append("| --- | --- | ---: | ---: | ---: |")
    for key, r in results.items():
        t = r.get("tflm")
        if not t:
            L.append(f"| {key} | not run | | | |")
            continue
        L.append(f"| {key} | {t.get('max_lsb')} ({t.get('mismatches')} / "
                 f"{t.get('values')}) | {fmt(t.get('arena_head'))} | "
                 f"{fmt(t.get('arena_tail'))} | {fmt(t.get('arena_total'))} |")
    open(path, "w").write("\n".join(L) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--work", default="/tmp/kiln-bench-mcu")
    p.add_argument("--models", default="")
    p.add_argument("--out", default=os.path.join(
        ROOT, "bench", "results", f"mcu-{datetime.date.today().isoformat()}.md"))
    p.add_argument("--no-tflm", action="store_true")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    wanted = set(filter(None, args.models.split(",")))
    results = {}
    for key, model, calib, test in MODELS:
        if wanted and key not in wanted:
            continue
        data = np.load(os.path.join(ROOT, "models", test + ".npz"))
        one = os.path.join(args.work, f"{key}-1.npz")
        four = os.path.join(args.work, f"{key}-4.npz")
        np.savez(one, input=data["input"][:1])
        np.savez(four, input=data["input"][:4])
        r = {}
        for config, flags in CONFIGS:
            print(f"[bench] {key} {config}", flush=True)
            r[config] = kiln_config(args, key, model, calib, test, config, flags, one)
        if not args.no_tflm:
            print(f"[bench] {key} tflm", flush=True)
            try:
                r["tflm"] = tflm(args, key, model, calib, test, four)
            except Exception as e:  # report, keep going
                print(f"[bench] {key}: TFLM failed: {e}", file=sys.stderr)
        results[key] = r
    with open(args.out[:-3] + ".json", "w") as f:
        json.dump(results, f, indent=1)
    write_markdown(args.out, results, args)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

//===- PlanReport.cpp - Human-readable memory plan reports ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Text and SVG renderings of an ArenaPlan. The SVG is written by hand (no
// library): a scaled rectangle per buffer, coloured by kind, with its name
// when it fits, a dashed line at the lower bound and axis ticks.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/planner/PlanReport.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace kiln::memory {

std::vector<StepMemory> stepMemory(const MemoryGraph &graph,
                                   const ArenaPlan &plan) {
  std::vector<StepMemory> steps;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (size_t s = 0; s < plan.order.size(); ++s) {
    StepMemory entry;
    entry.step = static_cast<int32_t>(s);
    entry.op = plan.order[s];
    if (entry.op >= 0 && static_cast<size_t>(entry.op) < graph.numOps())
      entry.opName = graph.op(entry.op).name;
    ranges.clear();
    for (const PlannedBuffer &buffer : plan.buffers)
      if (buffer.live.contains(entry.step) && buffer.bytes > 0) {
        ranges.emplace_back(buffer.offset, buffer.offset + buffer.bytes);
        entry.highWater =
            std::max(entry.highWater, buffer.offset + buffer.bytes);
      }
    std::sort(ranges.begin(), ranges.end());
    uint64_t reached = 0;
    for (const auto &[lo, hi] : ranges) {
      uint64_t start = std::max(lo, reached);
      if (hi > start)
        entry.liveBytes += hi - start;
      reached = std::max(reached, hi);
    }
    steps.push_back(std::move(entry));
  }
  return steps;
}

std::string formatPlanReport(const MemoryGraph &graph, const ArenaPlan &plan) {
  std::ostringstream out;
  out << "arena bytes:                " << plan.arenaBytes << "\n"
      << "lower bound (with reuse):   " << plan.lowerBound << "\n"
      << "lower bound (no reuse):     " << plan.lowerBoundWithoutReuse << "\n"
      << "strategy:                   " << plan.strategy
      << (plan.provedOptimal ? " (proved optimal)" : "") << "\n"
      << "buffers:                    " << plan.buffers.size() << "\n\n";
  std::vector<StepMemory> steps = stepMemory(graph, plan);
  uint64_t peakLive = 0;
  for (const StepMemory &step : steps)
    peakLive = std::max(peakLive, step.liveBytes);
  out << " step  live bytes  high water  op\n";
  for (const StepMemory &step : steps) {
    char line[64];
    std::snprintf(line, sizeof(line), "%5d  %10llu  %10llu  ", step.step,
                  static_cast<unsigned long long>(step.liveBytes),
                  static_cast<unsigned long long>(step.highWater));
    out << line
        << (step.opName.empty() ? "op" + std::to_string(step.op) : step.opName)
        << (step.liveBytes == peakLive ? "  <- peak" : "") << "\n";
  }
  if (!plan.reuses.empty()) {
    out << "\nreuses taken:\n";
    for (const AppliedReuse &reuse : plan.reuses)
      out << "  " << reuseKindName(reuse.kind) << " at "
          << describeOp(graph, reuse.op) << ": "
          << describeTensor(graph, reuse.from) << " -> "
          << describeTensor(graph, reuse.to)
          << (reuse.offsetInTo ? " + " + std::to_string(reuse.offsetInTo)
                               : std::string())
          << "\n";
  }
  return out.str();
}

namespace {

/// Returns |text| with the XML special characters escaped.
std::string escapeXml(const std::string &text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
    case '&':
      escaped += "&amp;";
      break;
    case '<':
      escaped += "&lt;";
      break;
    case '>':
      escaped += "&gt;";
      break;
    case '"':
      escaped += "&quot;";
      break;
    case '\'':
      escaped += "&apos;";
      break;
    default:
      escaped += c;
    }
  }
  return escaped;
}

/// Returns a fill colour for |buffer|: a stable hue per tensor, grey for
/// scratch buffers, orange for in-place temporaries.
std::string fillOf(const PlannedBuffer &buffer) {
  if (buffer.kind == BufferKind::Scratch)
    return "#b0b0b0";
  if (buffer.kind == BufferKind::InPlaceTemp)
    return "#f0a040";
  unsigned hue = (static_cast<unsigned>(buffer.tensor) * 137u) % 360u;
  return "hsl(" + std::to_string(hue) + ",55%,72%)";
}

/// Formats |value| with two decimals.
std::string fixed2(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", value);
  return text;
}

} // namespace

std::string renderArenaSvg(const MemoryGraph &graph, const ArenaPlan &plan,
                           const SvgOptions &options) {
  const double left = 70, top = 40, bottom = 40, right = 20;
  double width = options.width, height = options.height;
  size_t steps = std::max<size_t>(plan.order.size(), 1);
  double arena = static_cast<double>(std::max<uint64_t>(plan.arenaBytes, 1));
  double stepWidth = width / static_cast<double>(steps);
  auto y = [&](double offset) {
    return top + height - offset / arena * height;
  };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""
      << left + width + right << "\" height=\"" << top + height + bottom
      << "\" font-family=\"sans-serif\" font-size=\"10\">\n";
  svg << "<title>" << escapeXml(options.title) << "</title>\n";
  svg << "<text x=\"" << left << "\" y=\"16\" font-size=\"13\">"
      << escapeXml(options.title) << ": arena " << plan.arenaBytes
      << " B, lower bound " << plan.lowerBound << " B (no reuse "
      << plan.lowerBoundWithoutReuse << " B)</text>\n";
  svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << width
      << "\" height=\"" << height
      << "\" fill=\"#fafafa\" stroke=\"#404040\"/>\n";

  for (const PlannedBuffer &buffer : plan.buffers) {
    if (buffer.live.empty() || buffer.bytes == 0)
      continue;
    double x0 = left + buffer.live.first * stepWidth;
    double x1 = left + (buffer.live.last + 1) * stepWidth;
    double y0 = y(static_cast<double>(buffer.offset + buffer.bytes));
    double y1 = y(static_cast<double>(buffer.offset));
    std::string label = escapeXml(buffer.name);
    svg << "<rect x=\"" << fixed2(x0) << "\" y=\"" << fixed2(y0)
        << "\" width=\"" << fixed2(x1 - x0) << "\" height=\"" << fixed2(y1 - y0)
        << "\" fill=\"" << fillOf(buffer)
        << "\" fill-opacity=\"0.85\" stroke=\"#303030\" stroke-width=\"0.5\">"
        << "<title>" << label << ": " << buffer.bytes << " B at "
        << buffer.offset << ", steps " << buffer.live.first << "-"
        << buffer.live.last << "</title></rect>\n";
    // Label only where roughly 6 px per character and one text line fit.
    if (x1 - x0 >= 6.0 * buffer.name.size() && y1 - y0 >= 11.0)
      svg << "<text x=\"" << fixed2(x0 + 2) << "\" y=\""
          << fixed2((y0 + y1) / 2 + 3.5) << "\">" << label << "</text>\n";
  }

  double lb = y(static_cast<double>(plan.lowerBound));
  svg << "<line x1=\"" << left << "\" y1=\"" << fixed2(lb) << "\" x2=\""
      << left + width << "\" y2=\"" << fixed2(lb)
      << "\" stroke=\"#c00000\" stroke-dasharray=\"4 3\"/>\n";
  svg << "<text x=\"" << left + width - 4 << "\" y=\"" << fixed2(lb - 3)
      << "\" text-anchor=\"end\" fill=\"#c00000\">lower bound</text>\n";

  // Axes: offsets on the left (five ticks), op steps below.
  for (int tick = 0; tick <= 4; ++tick) {
    double offset = arena * tick / 4.0;
    svg << "<text x=\"" << left - 4 << "\" y=\"" << fixed2(y(offset) + 3.5)
        << "\" text-anchor=\"end\">" << static_cast<uint64_t>(offset)
        << "</text>\n";
  }
  size_t every = std::max<size_t>(1, steps / 20);
  for (size_t s = 0; s < steps; s += every)
    svg << "<text x=\"" << fixed2(left + (s + 0.5) * stepWidth) << "\" y=\""
        << top + height + 14 << "\" text-anchor=\"middle\">" << s
        << "</text>\n";
  svg << "<text x=\"" << left + width / 2 << "\" y=\"" << top + height + 32
      << "\" text-anchor=\"middle\">op step</text>\n";
  svg << "<text x=\"14\" y=\"" << top + height / 2
      << "\" transform=\"rotate(-90 14 " << top + height / 2
      << ")\" text-anchor=\"middle\">arena offset (bytes)</text>\n";
  (void)graph;
  svg << "</svg>\n";
  return svg.str();
}

Status writeTextFile(const std::string &path, const std::string &contents) {
  std::ofstream file(path, std::ios::binary);
  if (!file)
    return Status::error("cannot open '" + path + "' for writing");
  file << contents;
  file.close();
  if (!file)
    return Status::error("cannot write '" + path + "'");
  return Status::ok();
}

} // namespace kiln::memory

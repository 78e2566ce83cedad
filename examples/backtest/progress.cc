#include "progress.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

namespace spotopt::backtest {
namespace {

constexpr std::chrono::seconds kQuietFor{2};
constexpr std::chrono::milliseconds kRedrawEvery{100};

}  // namespace

ProgressBar::ProgressBar(bool enabled, double work)
    : enabled_(enabled), work_(std::max(work, 1.0)) {}

ProgressBar::~ProgressBar() {
  if (!shown_) return;
  Draw(1.0, end_, true);
  std::fputs("\n", stderr);
}

void ProgressBar::Begin(std::string label, double weight, Sec start, Sec end) {
  label_ = std::move(label);
  weight_ = weight;
  start_ = start;
  end_ = std::max(end, start + 1);
}

void ProgressBar::Update(Sec now) {
  const double within = static_cast<double>(now - start_) / static_cast<double>(end_ - start_);
  Draw((done_ + weight_ * std::clamp(within, 0.0, 1.0)) / work_, now, false);
}

void ProgressBar::End() {
  done_ += weight_;
  Draw(done_ / work_, end_, false);
}

void ProgressBar::Draw(double fraction, Sec now, bool force) {
  if (!enabled_) return;
  const auto t = std::chrono::steady_clock::now();
  if (!force && (t - began_ < kQuietFor || t - drawn_ < kRedrawEvery)) return;
  drawn_ = t;
  shown_ = true;
  const double elapsed = std::chrono::duration<double>(t - began_).count();
  const auto left = static_cast<int64_t>(fraction > 0 ? elapsed * (1 - fraction) / fraction : 0);
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  fmt::print(stderr, "\r[{}{}] {:3.0f}%  {:<40}  {}  ETA {}:{:02}  ", std::string(filled, '#'),
             std::string(kWidth - filled, '.'), fraction * 100, label_,
             absl::FormatTime("%Y-%m-%d", ToTime(now), absl::UTCTimeZone()), left / 60, left % 60);
  std::fflush(stderr);
}

}  // namespace spotopt::backtest

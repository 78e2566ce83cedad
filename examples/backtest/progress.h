// A progress bar on stderr: the strategy running, how far it is in simulated time and
// an estimate of the time left. It shows only once a run has taken more than two
// seconds, so short runs and tests print nothing.
#ifndef SPOTOPT_EXAMPLES_BACKTEST_PROGRESS_H_
#define SPOTOPT_EXAMPLES_BACKTEST_PROGRESS_H_

#include <chrono>
#include <string>

#include "market.h"

namespace spotopt::backtest {

class ProgressBar {
 public:
  // `work`: the weight of every strategy run to come.
  ProgressBar(bool enabled, double work);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // The next strategy run starts, over [start, end); `weight`: its share of the work.
  void Begin(std::string label, double weight, Sec start, Sec end);
  // The current run has reached simulated moment `now`.
  void Update(Sec now);
  // The current run is over.
  void End();

 private:
  void Draw(double fraction, Sec now, bool force);
  bool enabled_;
  double work_;
  Sec start_ = 0, end_ = 1;  // of the current run
  double done_ = 0;          // the weight of the runs that are over
  double weight_ = 0;        // of the current run
  std::string label_;
  std::chrono::steady_clock::time_point began_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point drawn_{};
  bool shown_ = false;
};

}  // namespace spotopt::backtest

#endif  // SPOTOPT_EXAMPLES_BACKTEST_PROGRESS_H_

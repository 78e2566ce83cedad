// MemoryStore's per-series price rows: inserting N observations oldest-first (the
// usual append), newest-first (how AWS returns price history, the worst case for a
// sorted array) and in random order. items_per_second counts inserted rows.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "store/memory/price_store.h"

namespace spotopt::memory {
namespace {

enum Order { kOldestFirst, kNewestFirst, kRandom };

std::vector<PriceRow> Rows(int64_t n, Order order) {
  std::vector<PriceRow> rows;
  rows.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t observed = (order == kNewestFirst ? n - i : i) * 300'000'000;
    rows.push_back(PriceRow{i + 1, observed, observed, 38'900 + i % 7, 0, 0});
  }
  if (order == kRandom) std::shuffle(rows.begin(), rows.end(), std::mt19937_64(42));
  return rows;
}

void BM_Insert(benchmark::State& state, Order order) {
  const std::vector<PriceRow> rows = Rows(state.range(0), order);
  for (auto _ : state) {
    PriceRows series;
    for (const PriceRow& row : rows) series.Insert(row);
    benchmark::DoNotOptimize(series.back());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

BENCHMARK_CAPTURE(BM_Insert, oldest_first, kOldestFirst)
    ->RangeMultiplier(8)
    ->Range(1 << 10, 1 << 16);
BENCHMARK_CAPTURE(BM_Insert, newest_first, kNewestFirst)
    ->RangeMultiplier(8)
    ->Range(1 << 10, 1 << 16);
BENCHMARK_CAPTURE(BM_Insert, random, kRandom)->RangeMultiplier(8)->Range(1 << 10, 1 << 16);

}  // namespace
}  // namespace spotopt::memory

BENCHMARK_MAIN();

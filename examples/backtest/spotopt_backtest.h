/* The backtest as a C entry point, for the Python module (bindings/python/spotopt/
 * backtest.py) and any other host: libspotopt_backtest.so, beside libspotopt.so. It
 * reads ../shared/data (or the config's data_dir), so it is kept out of libspotopt,
 * which never does I/O. */
#ifndef SPOTOPT_BACKTEST_H_
#define SPOTOPT_BACKTEST_H_

#include "spotopt/spotopt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs the backtest that `config_json` describes (a JSON object; examples/backtest/
 * README.md, "The config"). On SPOTOPT_OK, *result_json is the results document;
 * otherwise it is {"error": {"status": ..., "message": ...}} and the status says why:
 * SPOTOPT_INVALID_ARGUMENT (the config, or a data file that does not parse),
 * SPOTOPT_NOT_FOUND (a data file), SPOTOPT_INTERNAL (the ledger disagreed with the
 * cost model, or anything unexpected). Either way *result_json is freed with
 * spotopt_backtest_free. NULL arguments are SPOTOPT_INVALID_ARGUMENT (and *result_json
 * is left alone when result_json is NULL). */
SPOTOPT_API spotopt_status spotopt_backtest_run(const char* config_json, char** result_json);
SPOTOPT_API void spotopt_backtest_free(char* text);

#ifdef __cplusplus
}
#endif

#endif /* SPOTOPT_BACKTEST_H_ */

# XGBoost's C library (Debian's libxgboost-dev ships no CMake package) as the imported
# target XGBoost::XGBoost. Installed beside spotoptConfig.cmake, since the static
# library needs it at link time.
find_path(XGBoost_INCLUDE_DIR xgboost/c_api.h)
find_library(XGBoost_LIBRARY xgboost)
# libxgboost runs on GCC's OpenMP runtime; the model engine sizes its team (omp.h).
find_library(XGBoost_OMP_LIBRARY NAMES gomp libgomp.so.1)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(XGBoost REQUIRED_VARS XGBoost_LIBRARY XGBoost_OMP_LIBRARY XGBoost_INCLUDE_DIR)
if(XGBoost_FOUND AND NOT TARGET XGBoost::XGBoost)
  add_library(XGBoost::XGBoost UNKNOWN IMPORTED)
  set_target_properties(XGBoost::XGBoost PROPERTIES
    IMPORTED_LOCATION "${XGBoost_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${XGBoost_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${XGBoost_OMP_LIBRARY}")
endif()
mark_as_advanced(XGBoost_INCLUDE_DIR XGBoost_LIBRARY XGBoost_OMP_LIBRARY)

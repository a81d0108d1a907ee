#!/usr/bin/env bash
# Runs the whole test suite once per Keras backend (TensorFlow, JAX, PyTorch),
# then builds the documentation site with `mkdocs build --strict`.
# The three backend runs go side by side (JAX spends most of its time compiling
# on one core), each into its own log, printed in turn when it ends.
# Usage: bash scripts/test.sh [pytest args...]   (BACKENDS="jax" to run one)
EXTRAS=all,test,docs
source "$(dirname "$0")/_venv.sh"
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONHASHSEED=0
logs=$(mktemp -d)
# JAX keeps each compiled program in a cache shared by the run's processes: the tests and the
# CLI runs they start build the same models many times over, and a hit skips XLA's compilation.
export JAX_COMPILATION_CACHE_DIR="$logs/jax-cache" JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 \
  JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0
declare -A pids
for backend in ${BACKENDS:-jax tensorflow torch}; do
  KERAS_BACKEND=$backend python -m pytest -q "$@" >"$logs/$backend.log" 2>&1 &
  pids[$backend]=$!
done
status=0
for backend in ${BACKENDS:-jax tensorflow torch}; do
  wait "${pids[$backend]}" || status=1
  echo "=== KERAS_BACKEND=$backend"
  cat "$logs/$backend.log"
done
rm -rf "$logs"
# The documentation site: warnings (broken links, missing references) fail the build.
echo "=== mkdocs build --strict"
site=$(mktemp -d)
NO_MKDOCS_2_WARNING=1 python -m mkdocs build --strict --site-dir "$site" || status=1
rm -rf "$site"
exit $status

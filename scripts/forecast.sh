#!/usr/bin/env bash
# Quick start: trains a forecaster on the Victoria electricity demand data (vic_elec) with
# Victoria's public holidays and the temperature at the forecast steps (an oracle: the observed
# temperature standing in for a forecast), scores it against three baselines, runs the ablation
# (no covariates / holidays / holidays + temperature: three trainings) and writes the run to
# runs/<timestamp>/. --no-ablation trains the full model only.
# Usage: bash scripts/forecast.sh [kerasfactory forecast options...], e.g. --csv my.csv --target y
EXTRAS=all
source "$(dirname "$0")/_venv.sh"
export KERAS_BACKEND=${KERAS_BACKEND:-jax} TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}
exec kerasfactory forecast "$@"

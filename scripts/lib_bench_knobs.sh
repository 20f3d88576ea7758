# shellcheck shell=bash
# What the host-side benchmark scripts (bench_net.sh, bench_virtio.sh,
# bench_exec.sh) share before they start L1: their whole-number knobs and the
# release build of vmm. Sourced; the caller defines die().

# bench_knobs NAME=DEFAULT... [-- ZERO_OK_NAME...]: each NAME from the
# environment or its default, checked to be a whole number above 0 (or 0
# for the names after --); fills the associative array `knobs` (declare -A
# it first) and the array `knob_envs` (--env NAME=VALUE for run_x86.sh).
bench_knobs() {
  local spec name value zero_ok=" "
  local -a specs=()
  while (($#)); do
    if [ "$1" = -- ]; then shift; zero_ok=" $* "; break; fi
    specs+=("$1"); shift
  done
  knob_envs=()
  for spec in "${specs[@]}"; do
    name=${spec%%=*}
    value=${!name:-${spec#*=}}
    if [[ $zero_ok == *" $name "* ]]; then
      [[ $value =~ ^(0|[1-9][0-9]*)$ ]] || die "$name=$value: want a whole number (0 or more)"
    else
      [[ $value =~ ^[1-9][0-9]*$ ]] || die "$name=$value: want a whole number above 0"
    fi
    # shellcheck disable=SC2034 # the caller reads it
    knobs["$name"]=$value
    knob_envs+=(--env "$name=$value")
  done
}

# bench_release_vmm PROJECT TARGET...: build TARGETs of the release preset
# (-O2: a benchmark of the debug build measures -O0) unless VMM names a
# binary; prints the vmm to use.
bench_release_vmm() {
  local project=$1; shift
  if [ -z "${VMM:-}" ]; then
    (cd "$project" && cmake --preset release >/dev/null && cmake --build --preset release --target "$@" >/dev/null) ||
      die "building the release vmm failed (cmake --preset release && cmake --build --preset release --target $*)"
  fi
  local vmm=${VMM:-$project/build/release/vmm/vmm}
  [ -x "$vmm" ] || die "VMM '$vmm' is not an executable (build it, or set VMM=/path/to/vmm)"
  echo "$vmm"
}

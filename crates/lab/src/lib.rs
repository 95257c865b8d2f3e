//! The lab: what dme measures and checks on top of the simulator and the drivers, as a library,
//! so the `dme` binary only parses arguments and prints.

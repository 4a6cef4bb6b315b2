// The simulator's public entry: boards, a fleet on one clock, scenarios, and a NetLike over node:net.
export { SimBoard, loadBoardData, SOCKET_ERRORS } from "./board";
export type { SimBoardOptions, WifiAP, BoardId, BoardData, PinChange } from "./board";
export { SimClock } from "./clock";
export type { ClockOptions, ClockMode } from "./clock";
export { Fleet } from "./fleet";
export { runScenario } from "./scenario";
export type { Scenario, ScenarioResult, ScenarioEngine, RunScenarioOptions } from "./scenario";
export { MEMORY_MODEL } from "./memory";
export type { SensorModel } from "./sensors";
export { nodeNet, NodeSocket } from "./net";
export type { NodeNetOptions } from "./net";
export { Pins } from "./hw/pins";
export { Wifi } from "./hw/wifi";
export { NetFaults } from "./hw/net";
export { Storage } from "./hw/storage";
export { Watchdog } from "./hw/watchdog";

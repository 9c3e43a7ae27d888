/**
 * Master discovery: what agents, frameworks and CLI commands use to find the leading master
 * from an address (`master@node`, `nats://host:4222`, `http://host:port`), and what the master
 * uses to be found (`announceLeader`) and elected among several (`NatsMasterContender`).
 */
export { parseMasterAddress, type MasterAddress } from './address.ts';
export { connectFramework, detectorFor, transportFor, type BusOptions, type ConnectOptions, type FrameworkConnection } from './connect.ts';
export { NatsMasterDetector, StandaloneMasterDetector, parseLeaderInfo, type LeaderInfo, type MasterDetector, type NatsMasterDetectorOptions } from './detector.ts';
export { DetectionAbortedError, InvalidMasterAddressError, LeaderNotFoundError } from './errors.ts';
export { leaderBucket, NatsMasterContender, type ElectionEvent, type MasterContender, type NatsMasterContenderOptions } from './contender.ts';
export { announceLeader, leaderInfo } from './leader.ts';

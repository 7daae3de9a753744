// Typed view of scripts/lib/tar.mjs (the tar reader shared with scripts/models-report.mjs).
// @ts-ignore: plain ESM helper
import * as tar from '../../scripts/lib/tar.mjs';

export interface TarIndex { path: string; members: Map<string, { offset: number; size: number }> }

export const indexTar: (path: string) => TarIndex = tar.indexTar;
export const readMember: (t: TarIndex, name: string) => Uint8Array = tar.readMember;
export const CIFAR10_CLASSES: string[] = tar.CIFAR10_CLASSES;
/** The project's hold-out split: the last 500 files (4500..4999) of each class. */
export const cifarHoldout: (t: TarIndex) => Array<{ name: string; label: number }> = tar.cifarHoldout;

/**
 * Reading a file the user named: a catalog, sales to import, opening stock.
 *
 * @module
 */
import { errorMessage } from "../core/mod.ts";

/**
 * Reads a text file the user named.
 *
 * @throws {Error} one line naming the file and why it cannot be read.
 */
export async function readInput(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot read "${path}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

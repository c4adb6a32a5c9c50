import { hashPassword } from '../../ui/auth/password.ts';
import type { Command } from '../main.ts';

/** `peregrine ui-password`: prints the ui.passwordhash for a password read from stdin (never an argument). */
const uiPassword: Command = {
  summary: 'hash a password for the web UI login (ui.passwordhash); reads it from stdin',
  usage: 'peregrine ui-password < password.txt    (or: printf %s "$PW" | peregrine ui-password)',
  options: {},
  async main() {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    if (password.length < 8) {
      process.stderr.write('peregrine ui-password: the password on stdin must have at least 8 characters\n');
      return 2;
    }
    process.stdout.write(`${hashPassword(password)}\n`);
    return 0;
  },
};
export default uiPassword;

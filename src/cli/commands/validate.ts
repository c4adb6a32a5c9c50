import { formatDiagnostic } from '../../engine/loader/diagnostics.ts';
import { loadRuleFiles } from '../../engine/rules-files.ts';
import type { Command } from '../main.ts';

/** `peregrine validate`: load and compile rules files, as `falco -V` does, without running anything. */
const validate: Command = {
  summary: 'load and compile Falco rules files; print counts, warnings and errors (exit 1 on any error)',
  usage: 'peregrine validate -r FILE|DIR [-r FILE|DIR ...]',
  options: { rules: { type: 'string', short: 'r', multiple: true } },
  async main(values) {
    const paths = (values.rules ?? []) as string[];
    if (paths.length === 0) {
      console.error('peregrine validate: give at least one rules file or directory with -r');
      return 2;
    }
    const { engine, errors, warnings, files } = loadRuleFiles(paths);
    for (const w of warnings) console.log(`warning: ${formatDiagnostic(w)}`);
    for (const e of errors) console.error(`error: ${formatDiagnostic(e)}`);
    const c = engine.counts();
    console.log(`${files.join(', ')}: ${errors.length ? 'Invalid' : warnings.length ? 'Ok, with warnings' : 'Ok'}`);
    console.log(`${c.rules} rules, ${c.macros} macros, ${c.lists} lists; ${engine.rules.length} rules enabled; ${errors.length} errors, ${warnings.length} warnings`);
    return errors.length ? 1 : 0;
  },
};
export default validate;

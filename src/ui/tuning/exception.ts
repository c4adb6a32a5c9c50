import { stringify } from 'yaml';
import type { FalcoAlert } from '../../alert/alert.ts';

/** Fields that identify what happened, not when or which process instance: good exception keys. */
const PREFERRED = ['container.image.repository', 'k8s.ns.name', 'proc.name', 'proc.pname', 'proc.exepath', 'proc.cmdline', 'fd.name',
  'user.name', 'ka.user.name', 'ka.target.namespace', 'ka.target.resource', 'container.name'];
/** Fields that change with every event and would make an exception that never matches again. */
const VOLATILE = /^(evt\.(time|rawtime|num|datetime|args?)|proc\.(pid|ppid|vpid|tid)|thread\.|fd\.num|proc\.aname|proc\.apid)|\.time$|\.pid$/;

/**
 * A rules file fragment that appends a Falco exception to the alert's rule, matching the alert's
 * stable fields (proc.name, fd.name, container image, …). Falco loads it after the rule's own file.
 */
export function exceptionSnippet(a: FalcoAlert, maxFields = 3): string {
  const usable = Object.entries(a.output_fields)
    .filter(([k, v]) => !VOLATILE.test(k) && /^[a-z0-9_.]+$/.test(k) && v !== null && v !== '' && v !== '<NA>' && !Array.isArray(v));
  usable.sort(([x], [y]) => rank(x) - rank(y));
  const chosen = usable.slice(0, maxFields);
  const name = `peregrine_${a.rule.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '')}_${chosen.map(([k]) => k.split('.').pop()).join('_') || 'alert'}`;
  const doc = [{
    rule: a.rule,
    exceptions: [{
      name,
      fields: chosen.map(([k]) => k),
      comps: chosen.map(() => '='),
      values: [chosen.map(([, v]) => String(v))],
    }],
    override: { exceptions: 'append' },
  }];
  const head = `# Exception for "${a.rule}" from alert ${a.uuid} (${a.time}).\n`
    + '# Load it after the file that defines the rule, e.g. falco -r falco_rules.yaml -r this.yaml\n'
    + '# or peregrine run -r this.yaml. Remove fields to widen it.\n';
  return head + stringify(doc, { lineWidth: 0 });
}

function rank(field: string): number {
  const i = PREFERRED.indexOf(field);
  return i === -1 ? PREFERRED.length : i;
}

import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData } from 'discord.js';
import type { EventOutcome } from '../../src/core/ports/chat-adapter.ts';
import { DailiesError } from '../../src/errors.ts';
import { truncate } from './outgoing-message.ts';

type Form = NonNullable<EventOutcome['openForm']>;

/** Discord's modal caps: title and labels 45 chars, 5 inputs, 4000 chars per value. */
const MODAL = { titleChars: 45, labelChars: 45, fields: 5, valueChars: 4000, customIdChars: 100 } as const;

/**
 * A modal (interaction response type 9) pre-filled with the form's values. Inputs sit in Label
 * components, since text inputs in action rows are deprecated in modals.
 */
export function formModal(form: Form): APIModalInteractionResponseCallbackData {
  if (form.action.length < 1 || form.action.length > MODAL.customIdChars) {
    throw new DailiesError('internal', `Form action must be 1-${MODAL.customIdChars} characters to fit Discord's custom_id.`);
  }
  if (form.fields.length < 1 || form.fields.length > MODAL.fields) {
    throw new DailiesError('internal', `A Discord form holds 1-${MODAL.fields} fields; got ${form.fields.length}.`);
  }
  return {
    custom_id: form.action,
    title: truncate(form.title, MODAL.titleChars),
    components: form.fields.map((f) => ({
      type: ComponentType.Label,
      label: truncate(f.label, MODAL.labelChars),
      component: {
        type: ComponentType.TextInput,
        custom_id: f.id,
        style: f.multiline ? TextInputStyle.Paragraph : TextInputStyle.Short,
        value: f.value.slice(0, MODAL.valueChars),
        max_length: MODAL.valueChars,
        required: true,
      },
    })),
  };
}

interface SubmittedComponent {
  type: number;
  customId?: string;
  value?: unknown;
  components?: readonly SubmittedComponent[];
  component?: SubmittedComponent;
}

/** Text values of a modal submit, keyed by field id; accepts both Label and legacy action-row layouts. */
export function submittedValues(components: readonly SubmittedComponent[]): Record<string, string> {
  const values: Record<string, string> = {};
  const visit = (c: SubmittedComponent) => {
    if (c.type === ComponentType.TextInput && c.customId !== undefined) values[c.customId] = typeof c.value === 'string' ? c.value : '';
    c.components?.forEach(visit);
    if (c.component) visit(c.component);
  };
  components.forEach(visit);
  return values;
}

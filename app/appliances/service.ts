import { KilnError } from '../errors.ts';
import type { Appliance, Store } from '../store/index.ts';
import { resolveSettings } from '../templates/schema.ts';
import type { TemplateRegistry } from '../templates/registry.ts';
import type { EventBus } from '../events.ts';

export interface CreateApplianceInput {
  name: string;
  template: string;
  settings: Record<string, unknown>;
}

/** Appliance lifecycle in the library: every change is validated, stored, then announced. */
export class ApplianceService {
  constructor(
    private readonly store: Store,
    private readonly templates: TemplateRegistry,
    private readonly events: EventBus,
  ) {}

  list(): Appliance[] {
    return this.store.appliances.list();
  }

  get(name: string): Appliance {
    return this.store.appliances.get(name);
  }

  create(input: CreateApplianceInput): Appliance {
    const template = this.templates.get(input.template);
    const config = resolveSettings(template.settings, input.settings);
    const a = this.store.appliances.create({ name: input.name, template: template.name, config });
    this.events.emit({ type: 'appliance.created', name: a.name });
    return a;
  }

  rename(name: string, newName: string): Appliance {
    const a = this.store.appliances.rename(name, newName);
    this.events.emit({ type: 'appliance.renamed', name: newName, from: name });
    return a;
  }

  updateSettings(name: string, settings: Record<string, unknown>): Appliance {
    const current = this.store.appliances.get(name);
    if (current.template === null) {
      throw new KilnError(
        'invalid_input',
        `"${name}" is an imported image: it has no template settings to change.`,
        'settings',
      );
    }
    const config = resolveSettings(this.templates.get(current.template).settings, settings);
    const a = this.store.appliances.updateConfig(name, config);
    this.events.emit({ type: 'appliance.updated', name });
    return a;
  }

  remove(name: string): void {
    this.store.appliances.remove(name);
    this.events.emit({ type: 'appliance.removed', name });
  }
}

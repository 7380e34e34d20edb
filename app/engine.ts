import { ApplianceService } from './appliances/service.ts';
import { EventBus } from './events.ts';
import { detectCapabilities, type HostCapabilities } from './host/capabilities.ts';
import { kilnHome, resourcesDir } from './paths.ts';
import { Store } from './store/index.ts';
import { TemplateRegistry } from './templates/registry.ts';
import { MachineService } from './machines/service.ts';
import { BuildService } from './build/service.ts';
import { checkoutLocations, packagedLocations, type BuildLocations } from './build/locations.ts';
import { join } from 'node:path';

export interface EngineOptions {
  /** data home; defaults to $KILN_HOME or the platform's app-data folder */
  home?: string;
  /** resources folder (templates, kernel base); defaults to the checkout's or the package's */
  resources?: string;
  /**
   * A packaged Electron app: process.resourcesPath and the app's own folder (the asar). The
   * resources and every build input then come from there (app/build/locations.ts).
   */
  packaged?: { resourcesPath: string; appDir: string };
}

/**
 * The engine owns all state: the library, the templates, the host's capabilities and the
 * services built on them. Every front end (Electron IPC, web mode, CLI) talks to one Engine
 * through the API in app/api. Pure Node: never imports Electron.
 */
export class Engine {
  readonly home: string;
  readonly resources: string;
  readonly buildLocations: BuildLocations;
  readonly store: Store;
  readonly templates: TemplateRegistry;
  readonly events = new EventBus();
  readonly appliances: ApplianceService;
  private capabilities: Promise<HostCapabilities> | undefined;
  private readonly closers: (() => void | Promise<void>)[] = [];

  private constructor(opts: EngineOptions) {
    this.home = opts.home ?? kilnHome();
    const packaged = opts.packaged;
    this.resources = packaged
      ? join(packaged.resourcesPath, 'resources')
      : (opts.resources ?? resourcesDir());
    this.buildLocations = packaged
      ? packagedLocations(packaged.resourcesPath, packaged.appDir)
      : checkoutLocations(this.resources);
    this.store = Store.open(this.home);
    this.templates = new TemplateRegistry(join(this.resources, 'templates'));
    this.appliances = new ApplianceService(this.store, this.templates, this.events);
  }

  static open(opts: EngineOptions = {}): Engine {
    return new Engine(opts);
  }

  /** Host capabilities, detected once per engine (refresh: true detects again). */
  hostCapabilities(refresh = false): Promise<HostCapabilities> {
    if (refresh || !this.capabilities) this.capabilities = detectCapabilities();
    return this.capabilities;
  }

  private machineService: MachineService | undefined;

  /**
   * The machines service, created on first use (so commands that never touch VMs start no
   * sampler). Long-lived front ends (the app, `kiln serve`) call `machines.reattachAll()` once at
   * start to pick up VMs a previous engine left running.
   */
  get machines(): MachineService {
    if (!this.machineService) {
      const svc = new MachineService(this.store, this.events, this.home);
      this.machineService = svc;
      this.onClose(() => svc.close());
    }
    return this.machineService;
  }

  private buildService: BuildService | undefined;

  /** The build service (app/build), created on first use; builds run in a worker thread. */
  get builds(): BuildService {
    if (!this.buildService) {
      const svc = new BuildService(this.store, this.templates, this.events, this.home, this.buildLocations);
      this.buildService = svc;
      this.onClose(() => svc.close());
    }
    return this.buildService;
  }

  /** Registers work to do when the engine closes (services stop their timers, VMs detach). */
  onClose(fn: () => void | Promise<void>): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.closers.reverse()) await fn();
    this.store.close();
  }
}

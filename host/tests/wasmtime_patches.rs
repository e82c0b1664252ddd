//! Behaviour the vendored wasmtime's patches (`vendor/README.md`) must keep.
//!
//! The imported-table-segments patch: an active element segment that writes
//! functions into an *imported* table is no longer applied by the module's
//! compiled startup function, one `ref.func` and `table.set` per element, but
//! recorded at instantiation on the table's defining instance and resolved
//! the first time each element is read. A Python component fills a shared
//! table of 5,672 functions this way on every instantiation. These tests pin
//! the semantics that must not change: which function each element holds,
//! segment order, bounds checks, and a fresh table in every store.

use wasmtime::{Config, Engine, InstanceAllocationStrategy, Linker, Module, PoolingAllocationConfig, Store, Trap};

/// Defines the shared table (8 elements) and the offset global; puts its own
/// functions at 2 (later overwritten by `USER`) and 4 (left alone).
const LIB: &str = r#"(module
  (type $r (func (result i32)))
  (table (export "t") 8 funcref)
  (global (export "base") i32 (i32.const 2))
  (func $a99 (result i32) i32.const 99)
  (func $a44 (result i32) i32.const 44)
  (elem (i32.const 2) $a99)
  (elem (i32.const 4) $a44)
  (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $r)))"#;

/// Writes 11 and 22 at `base` (2 and 3), then 33 over 3: segments apply in
/// order, so 3 holds 33.
const USER: &str = r#"(module
  (type $r (func (result i32)))
  (import "lib" "t" (table 8 funcref))
  (import "lib" "base" (global $base i32))
  (func $f11 (result i32) i32.const 11)
  (func $f22 (result i32) i32.const 22)
  (func $f33 (result i32) i32.const 33)
  (elem (table 0) (global.get $base) func $f11 $f22)
  (elem (table 0) (i32.const 3) func $f33)
  (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $r))
  (func (export "is_null") (param i32) (result i32) local.get 0 table.get 0 ref.is_null)
  (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 table.copy))"#;

/// Its first segment fits; its second runs past the table's end.
const OVERFLOW: &str = r#"(module
  (import "lib" "t" (table 8 funcref))
  (func $f55 (result i32) i32.const 55)
  (func $f66 (result i32) i32.const 66)
  (elem (table 0) (i32.const 1) func $f55)
  (elem (table 0) (i32.const 7) func $f66 $f66))"#;

struct Modules {
    engine: Engine,
    lib: Module,
    user: Module,
    overflow: Module,
}

fn modules(config: &Config) -> Modules {
    let engine = Engine::new(config).expect("engine");
    let module = |text: &str| Module::new(&engine, wat::parse_str(text).expect("valid text")).expect("module compiles");
    Modules { lib: module(LIB), user: module(USER), overflow: module(OVERFLOW), engine }
}

fn pooled() -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(4).total_tables(4).total_memories(4).max_memory_size(1 << 16).table_elements(64);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// A store with `LIB` instantiated, and a linker that imports from it.
fn with_lib(m: &Modules) -> (Store<()>, Linker<()>, wasmtime::Instance) {
    let mut store = Store::new(&m.engine, ());
    let mut linker = Linker::new(&m.engine);
    let lib = linker.instantiate(&mut store, &m.lib).expect("lib");
    linker.instance(&mut store, "lib", lib).expect("define lib");
    (store, linker, lib)
}

/// The result of `call(i)` in `instance`, or the trap it raised.
fn call(store: &mut Store<()>, instance: wasmtime::Instance, i: i32) -> Result<i32, Trap> {
    let f = instance.get_typed_func::<i32, i32>(&mut *store, "call").expect("call export");
    f.call(&mut *store, i).map_err(|e| *e.downcast_ref::<Trap>().expect("a trap"))
}

#[test]
fn each_element_of_an_imported_table_holds_the_last_segments_function() {
    for config in [Config::new(), pooled()] {
        let m = modules(&config);
        let (mut store, linker, lib) = with_lib(&m);
        let user = linker.instantiate(&mut store, &m.user).expect("user");

        // Read through the importing module, the defining one, and the host.
        for instance in [user, lib] {
            assert_eq!(call(&mut store, instance, 2), Ok(11), "user's first segment replaced lib's own element");
            assert_eq!(call(&mut store, instance, 3), Ok(33), "the later segment wins");
            assert_eq!(call(&mut store, instance, 4), Ok(44), "lib's own element, untouched by user");
            assert_eq!(call(&mut store, instance, 0), Err(Trap::IndirectCallToNull));
            assert_eq!(call(&mut store, instance, 8), Err(Trap::TableOutOfBounds));
        }
        let table = lib.get_table(&mut store, "t").expect("table export");
        let host_read = table.get(&mut store, 2).expect("in bounds");
        let f = host_read.as_func().flatten().expect("a function at 2");
        assert_eq!(f.typed::<(), i32>(&store).unwrap().call(&mut store, ()).unwrap(), 11);
        assert!(table.get(&mut store, 5).expect("in bounds").as_func().flatten().is_none());

        let is_null = user.get_typed_func::<i32, i32>(&mut store, "is_null").unwrap();
        assert_eq!(is_null.call(&mut store, 3).unwrap(), 0);
        assert_eq!(is_null.call(&mut store, 6).unwrap(), 1);

        // table.copy reads the source elements as they resolve.
        let copy = user.get_typed_func::<(i32, i32, i32), ()>(&mut store, "copy").unwrap();
        copy.call(&mut store, (5, 2, 2)).unwrap();
        assert_eq!(call(&mut store, user, 5), Ok(11));
        assert_eq!(call(&mut store, user, 6), Ok(33));
    }
}

#[test]
fn an_out_of_bounds_segment_fails_instantiation_after_applying_the_ones_before_it() {
    for config in [Config::new(), pooled()] {
        let m = modules(&config);
        let (mut store, linker, lib) = with_lib(&m);

        let err = linker.instantiate(&mut store, &m.overflow).expect_err("segment at 7 of 2 elements in a table of 8");
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::TableOutOfBounds), "{err:?}");
        assert_eq!(call(&mut store, lib, 1), Ok(55), "the segment before the failing one stays applied");
        assert_eq!(call(&mut store, lib, 7), Err(Trap::IndirectCallToNull), "nothing of the failing one");
    }
}

#[test]
fn a_pooled_table_starts_every_store_with_only_its_own_modules_segments() {
    let m = modules(&pooled());
    for round in 0..4 {
        let (mut store, linker, lib) = with_lib(&m);
        if round % 2 == 0 {
            linker.instantiate(&mut store, &m.user).expect("user");
            assert_eq!(call(&mut store, lib, 2), Ok(11), "round {round}");
            assert_eq!(call(&mut store, lib, 3), Ok(33), "round {round}");
        } else {
            // The previous store's table slot, and none of its segments.
            assert_eq!(call(&mut store, lib, 2), Ok(99), "round {round}");
            assert_eq!(call(&mut store, lib, 3), Err(Trap::IndirectCallToNull), "round {round}");
        }
        assert_eq!(call(&mut store, lib, 4), Ok(44), "round {round}");
    }
}

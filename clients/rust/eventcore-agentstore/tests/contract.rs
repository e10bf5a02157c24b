//! eventcore's own backend contract suite (eventcore-testing), run against
//! agentstore.  Needs AGENTSTORE_TEST_DSN (see tests/common/mod.rs).

mod common;

eventcore_testing::contract::backend_contract_tests! {
    suite = agentstore,
    make_store = crate::common::make_store,
    make_checkpoint_store = crate::common::make_checkpoint_store,
    make_coordinator = crate::common::make_coordinator,
}

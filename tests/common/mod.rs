//! Small scenarios shared by the tests.

#![allow(dead_code)] // each test file uses some of these

/// Children start `well` and fall `sick` (100 a year) with probability 0.2 a
/// year, over `end_age` years, with the given `[discounting]` lines and
/// intervention lines (after `id = "tsi"`).
pub fn well_sick(end_age: u32, discounting: &str, intervention: &str) -> String {
    format!(
        r#"
[scenario]
name = "well or sick"
price_year = 2024
start_age = 0
end_age = {end_age}

[discounting]
{discounting}

[payers]
kommun = {{ public = true }}

[[states]]
id = "well"

[[states]]
id = "sick"
costs = {{ kommun = 100 }}

[[transitions]]
from = "well"
to = {{ sick = 0.2 }}

[[population]]
size = 1
start = {{ well = 1.0 }}

[[interventions]]
id = "tsi"
{intervention}
"#
    )
}

/// One child `placed` for `end_age` years at the annual cost `$cost`, in
/// `price_year` prices, undiscounted; `parameters` defines `cost`, `tail`
/// adds tables at the end (e.g. `[price_index]`).
pub fn placed_at_cost(price_year: i32, end_age: u32, parameters: &str, tail: &str) -> String {
    format!(
        r#"
[scenario]
name = "prices"
price_year = {price_year}
start_age = 0
end_age = {end_age}

[discounting]
costs = 0.0
outcomes = 0.0

[payers]
kommun = {{ public = true }}

[parameters]
{parameters}

[[states]]
id = "placed"
costs = {{ kommun = "$cost" }}

[[population]]
size = 1
start = {{ placed = 1.0 }}
{tail}
"#
    )
}

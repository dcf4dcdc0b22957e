"""The functions a gated query may call: an allowlist, by the name DuckDB's parser resolves.

Everything else is refused, including DuckDB's system and settings functions, every table
function but `range`, `generate_series` and `unnest`, and the built-in macros (some wrap
table functions: ``get_block_size`` reads ``pragma_database_size``). The names are those in
DuckDB's own parse tree (``json_serialize_sql``), so operators appear as ``+`` or ``~~``
(LIKE), ``count(*)`` as ``count_star`` and ``extract(year from d)`` as ``date_part``.

Left out on purpose: functions that read the session or the environment (``current_*``,
``getvariable``, ``version``, ``stats``), change state (``nextval``, ``setseed``), run or
serialise SQL (``json_serialize_plan``, ``json_execute_serialized_sql``), sleep, raise, log,
or build huge values from a small one (``repeat``, ``lpad``, ``list_resize``).

>>> allowed_function("sum"), allowed_function("COUNT_STAR"), allowed_function("~~")
(True, True, True)
>>> allowed_function("current_setting"), allowed_function("get_block_size")
(False, False)
"""

from __future__ import annotations

#: Operators and the functions DuckDB's parser writes for plain syntax.
_OPERATORS = """
    + - * / // % ** ^ || & | << >> ~ ~~ !~~ ~~* !~~* ~~~ ^@ @> <@ &&
    add subtract multiply divide mod
    array_extract array_slice list_extract list_element struct_extract struct_pack row
    list_value array_value count_star date_part datepart
"""

_AGGREGATES = """
    any_value approx_count_distinct approx_quantile arbitrary arg_max arg_min argmax argmin
    array_agg avg bool_and bool_or corr count count_if countif covar_pop covar_samp first
    fsum favg kahan_sum sumkahan kurtosis kurtosis_pop last list listagg group_concat mad
    max max_by mean median min min_by mode product quantile quantile_cont quantile_disc
    regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy
    regr_syy sem skewness stddev stddev_pop stddev_samp string_agg sum var_pop var_samp
    variance entropy weighted_avg wavg geomean geometric_mean
"""

_WINDOW = """
    cume_dist dense_rank rank_dense first_value lag last_value lead nth_value ntile
    percent_rank rank row_number
"""

_NUMBERS = """
    abs ceil ceiling floor round round_even roundbankers trunc sign sqrt cbrt exp ln log
    log10 log2 pow power greatest least isnan isinf isfinite fdiv fmod gcd lcm
    greatest_common_divisor least_common_multiple degrees radians pi even
    sin cos tan asin acos atan atan2 cot sinh cosh tanh
"""

_TEXT = """
    lower upper lcase ucase length len char_length character_length strlen octet_length
    concat concat_ws substring substr left right trim ltrim rtrim replace reverse position
    strpos instr contains starts_with ends_with prefix suffix split_part string_split
    str_split string_to_array regexp_matches regexp_full_match regexp_extract
    regexp_replace regexp_escape like_escape not_like_escape ilike_escape not_ilike_escape
    format printf translate strip_accents ascii chr unicode ord nfc_normalize
    levenshtein damerau_levenshtein jaccard jaro_similarity jaro_winkler_similarity hamming
    mismatches editdist3 md5 sha1 sha256
"""

_DATES = """
    date_trunc datetrunc date_diff datediff date_sub datesub date_add age last_day
    year quarter month week weekofyear day dayofmonth dayofweek weekday dayofyear isodow
    isoyear yearweek hour minute second millisecond microsecond epoch epoch_ms
    dayname monthname decade century millennium era days_in_month julian
    make_date make_time make_timestamp strftime strptime try_strptime time_bucket
    to_years to_quarters to_months to_weeks to_days to_hours to_minutes to_seconds
    to_milliseconds to_microseconds to_centuries to_decades to_millennia to_timestamp
    current_date today now get_current_timestamp get_current_time transaction_timestamp
"""

# coalesce and ifnull are operators in DuckDB's tree (OPERATOR_COALESCE), not functions
_CONDITIONS = """
    if nullif typeof
"""

_LISTS = """
    list_contains list_has array_contains array_has list_position list_indexof
    array_position array_length cardinality list_distinct array_distinct list_unique
    array_unique list_sort array_sort list_reverse_sort array_reverse_sort unnest
    list_transform list_filter list_reduce list_concat
"""

#: The allowed function names, lower case.
ALLOWED_FUNCTIONS: frozenset[str] = frozenset(
    " ".join((_OPERATORS, _AGGREGATES, _WINDOW, _NUMBERS, _TEXT, _DATES, _CONDITIONS,
              _LISTS)).split()
)

#: Table functions that only generate values (no I/O, no catalog).
ALLOWED_TABLE_FUNCTIONS: frozenset[str] = frozenset({"range", "generate_series", "unnest"})


def allowed_function(name: str) -> bool:
    """Whether a gated query may call the function DuckDB resolves as `name`."""
    return name.lower() in ALLOWED_FUNCTIONS


def allowed_table_function(name: str) -> bool:
    """Whether a gated query may read from the table function `name`.

    >>> allowed_table_function("range"), allowed_table_function("duckdb_settings")
    (True, False)
    """
    return name.lower() in ALLOWED_TABLE_FUNCTIONS

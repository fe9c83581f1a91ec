-- Parameters as bithedge-parameters sets them at deploy (no event is printed for these): generated from the contract.
select key, value::numeric(39, 0) as value, min_value::numeric(39, 0) as min_value, max_value::numeric(39, 0) as max_value
from (values
  {%- for key, value, lo, hi in deploy_seed()['params'] %}
    ('{{ key }}', {{ value }}, {{ lo }}, {{ hi }}){{ ',' if not loop.last }}
  {%- endfor %}
) as seed (key, value, min_value, max_value)

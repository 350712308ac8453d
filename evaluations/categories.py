"""The starting taxonomy of problem categories (问题类别), and putting it in place.

These are the weaknesses the 2020 table finds again and again; the 2020 fixture's
``categories:`` use these names. Staff rename, add or reorder categories in the back-office.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps

DEFAULT_CATEGORIES: list[tuple[str, str]] = [
    (
        "绩效目标与指标设置",
        "绩效目标不完整、不细化，绩效指标设置不全面、不规范、不可考核，佐证材料不全。",
    ),
    ("预算编制与执行", "预算编制不科学、调整幅度大，预算执行率偏低，资金拨付不及时。"),
    ("项目管理与实施", "前期准备不足、流程繁复、进度把握不严、部门协同不够。"),
    ("监督管理", "对资金使用、服务质量和整改落实的监督检查不到位。"),
    ("宣传与群众满意度", "宣传不足，未开展受益对象满意度调查，与群众距离较远。"),
    ("信息化建设", "信息系统功能不完善，数据分析与共享不足。"),
    ("队伍建设", "人员不足、专业素质不高、培训和带动作用不够。"),
]


def ensure_default_categories(**kwargs: Any) -> None:
    """post_migrate: a database without any category gets the starting taxonomy.

    Run after every ``migrate`` (and after the test runner empties the tables), it only ever
    fills an empty table, so the categories staff edited are never touched.
    """
    # migrate passes the migration state's apps; flush (the test runner's) passes none.
    try:
        FindingCategory = (kwargs.get("apps") or global_apps).get_model(
            "evaluations", "FindingCategory"
        )
    except LookupError:
        return  # migrated back to before the table existed
    categories = FindingCategory.objects.using(kwargs.get("using", "default"))
    if categories.exists():
        return
    categories.bulk_create(
        FindingCategory(name=name, order=order, description=description)
        for order, (name, description) in enumerate(DEFAULT_CATEGORIES, start=1)
    )

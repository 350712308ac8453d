"""The redaction check before publishing (脱敏检查): a corpus of names, phone numbers, ID numbers
and e-mail addresses it must find, and the texts of the 2020 table it must leave alone."""

from __future__ import annotations

import pytest

from devdata.management.commands.seed_demo import HEAD_NAMES, STAFF_NAMES
from evaluations.models import Finding, Recommendation
from results.choices import RedactionKind
from results.publication import printable
from results.redaction import scan

NAME, PHONE, ID_NUMBER, EMAIL = (
    RedactionKind.NAME,
    RedactionKind.PHONE,
    RedactionKind.ID_NUMBER,
    RedactionKind.EMAIL,
)

# (text, what the check must report), with the names the ledger knows being 陈志强 and 欧阳娜娜.
CORPUS = [
    ("整改由陈志强牵头负责。", [(NAME, "陈志强")]),
    ("请欧阳娜娜于月底前报送材料。", [(NAME, "欧阳娜娜")]),
    ("联系人：李四，负责跟进。", [(NAME, "李四")]),
    ("经办人: 王小明", [(NAME, "王小明")]),
    ("责任人：黄丽", [(NAME, "黄丽")]),
    ("如有疑问请致电13812345678。", [(PHONE, "13812345678")]),
    ("手机 139-2000-1234 全天开机", [(PHONE, "139-2000-1234")]),
    ("手机：+86 138 1234 5678", [(PHONE, "+86 138 1234 5678")]),
    ("办公电话020-81234567，传真020-81234568", [(PHONE, "020-81234567"), (PHONE, "020-81234568")]),
    ("咨询（020）8123 4567", [(PHONE, "（020）8123 4567")]),
    ("座机：81234567", [(PHONE, "81234567")]),
    ("联系电话：02081234567", [(PHONE, "02081234567")]),
    ("电话号码：81234567", [(PHONE, "81234567")]),
    ("联系电话为81234567。", [(PHONE, "81234567")]),
    ("总机 020 8123 4567 转分机", [(PHONE, "020 8123 4567")]),
    ("电话020－81234567", [(PHONE, "020－81234567")]),
    ("手机１３８１２３４５６７８", [(PHONE, "１３８１２３４５６７８")]),
    ("联系人张三，电话13812345678", [(NAME, "张三"), (PHONE, "13812345678")]),
    ("负责人为李小红。", [(NAME, "李小红")]),
    ("联系电话：020-81234567，13812345678", [(PHONE, "020-81234567"), (PHONE, "13812345678")]),
    ("电话：13812345678，13912345678", [(PHONE, "13812345678"), (PHONE, "13912345678")]),
    ("请联系王老师，13812345678。", [(PHONE, "13812345678")]),
    ("总机020-81234567-8001", [(PHONE, "020-81234567-8001")]),
    ("负责人：财务科 李明", [(NAME, "李明")]),
    ("责任人：区财政局李明", [(NAME, "李明")]),
    ("负责人：李明主任", [(NAME, "李明")]),
    ("联系人：王 珊", [(NAME, "王 珊")]),
    ("填报人：陈大文；承办人：林小雨", [(NAME, "陈大文"), (NAME, "林小雨")]),
    ("身份证号440103199003071232已核实", [(ID_NUMBER, "440103199003071232")]),
    ("证件号码 11010519491231002X", [(ID_NUMBER, "11010519491231002X")]),
    (
        "身份证４４０１０４１９８５０６１５００２２",
        [(ID_NUMBER, "４４０１０４１９８５０６１５００２２")],
    ),
    ("来函请发至 zhengzai@lw.gov.cn 。", [(EMAIL, "zhengzai@lw.gov.cn")]),
    ("邮箱First.Last+cc@example.com.cn", [(EMAIL, "First.Last+cc@example.com.cn")]),
    (
        "由陈志强（13900001111，chen@example.org）联系。",
        [(NAME, "陈志强"), (PHONE, "13900001111"), (EMAIL, "chen@example.org")],
    ),
]

# What a finding text is full of, and the check must not mistake for personal data.
NOT_PERSONAL = [
    "项目预算5,793.48万元，实际支出13812345.67元。",
    "资金到位率98.17%，执行率13,812,345元。",
    "依据《广州市荔湾区财政局关于开展2020年度绩效评价的通知》（荔财〔2020〕10号）。",
    "合同编号HT202003150001，统一社会信用代码91440101MA59ABCD1X。",
    "2020年3月15日至2020年12月31日期间完成120000000元支付。",
    "负责人要加强统筹，经办人要落实台账。",
    "负责人：区财政局；经办人：财务科；责任人：各科室。",
    "责任人：分管领导，联系人：项目单位。",
    "合同号0201-2020-0001，项目编号GZ020-2020-1234。",
    "合同金额13500000000元，另有13800000000万元。",
    # 18 digits with a date in them but not the check character of an ID number.
    "批次号440103199003071234，流水号110105194912310021。",
    "联系人数量较多，电话费23456789元。",
    "报销须经办人签字，负责人审批。",
    "建立项目负责人制度，落实联系人制度；对相关责任人追责。",
    "由经办人初审、负责人复核。",
    "联系人：财务股；负责人：街道；经办人：出纳；负责人：办公室主任。",
    "合同编号0755-2020-0001，凭证号020-81234567。",
    "陈志强化管理的要求未落实。",  # 陈志 + 强化: not the name 陈志强 … but it is, literally
]


@pytest.mark.parametrize(("text", "expected"), CORPUS)
def test_the_check_finds_personal_data_in_the_corpus(text, expected):
    flags = scan(text, names=["陈志强", "欧阳娜娜", "王"])
    assert [(f.kind, f.text) for f in flags] == expected


@pytest.mark.parametrize("text", NOT_PERSONAL[:-1])
def test_amounts_dates_document_numbers_and_roles_are_not_flagged(text):
    assert scan(text, names=["陈志强"]) == []


def test_a_known_name_is_found_wherever_its_characters_stand():
    # The check matches the names it knows literally; a false alarm of this kind is confirmed
    # by staff in one click, a name missed is published.
    assert [f.text for f in scan(NOT_PERSONAL[-1], names=["陈志强"])] == ["陈志强"]


@pytest.mark.parametrize(
    "text",
    ["电话：138\x0112345678", "手机138\u200b1234\u200b5678", "联系人：王\x07珊"],
)
def test_invisible_characters_do_not_hide_what_the_public_will_read(text):
    # The check reads the text as it is published: without them.
    assert len(scan(printable(text))) == 1


def test_single_character_names_are_ignored():
    assert scan("王道在于落实整改。", names=["王"]) == []


def test_each_finding_is_reported_once():
    text = "电话13812345678；再次确认13812345678。"
    assert [f.text for f in scan(text)] == ["13812345678"]


def test_a_flag_reads_with_its_kind():
    (flag,) = scan("13812345678")
    assert flag.label == f"{RedactionKind.PHONE.label}「13812345678」"


@pytest.mark.django_db
def test_no_false_alarm_on_the_2020_table(liwan_2020):
    # The names the check knows in the demo: its accounts' people.
    names = [*STAFF_NAMES, *HEAD_NAMES, "王珊", "陈立", "赵明"]
    texts = [t for f in Finding.objects.all() for t in (f.title, f.body)]
    texts += [t for r in Recommendation.objects.all() for t in (r.title, r.body)]
    assert len(texts) > 40
    assert {text: flags for text in texts if (flags := scan(text, names=names))} == {}

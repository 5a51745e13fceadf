"""The demo data set (``kefu demo``): a realistic Chinese shop to try kefu on.

A platform store and four third-party sellers, about fifty products, ~200 customers, ~2,000
orders with deliveries over the last 60 days, demo accounts for every role, and after-sales
applications in every lifecycle status. Everything is drawn from ``random.Random(2026)`` and
placed relative to the clock passed in, so the same clock gives the same data.

Catalog and orders are reference data (the shop's, normally imported), so they are written in
one bulk transaction. Applications are real use cases: they go through
:func:`submit_application` and :func:`transition_application` with a clock moved back in time,
so their histories, due times, refunds and customer messages are what the services write.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.adapters.db.tables.aftersales import Application
from kefu.adapters.db.tables.auth import User
from kefu.adapters.db.tables.catalog import (
    Customer,
    Delivery,
    Order,
    OrderGift,
    OrderLine,
    OrderPayment,
    Product,
    Seller,
    TrackingEvent,
)
from kefu.domain.actors import Actor, Role
from kefu.domain.aftersales.lifecycle import Action, Status
from kefu.domain.aftersales.model import Reason, RequestType
from kefu.domain.aftersales.params import PolicyBook
from kefu.domain.clock import Clock, FixedClock, system_clock
from kefu.domain.money import ZERO, split_proportionally, to_cents
from kefu.services.accounts import create_user
from kefu.services.aftersales import (
    ApplicationRequest,
    TransitionInput,
    submit_application,
    transition_application,
)
from kefu.services.evidence import upload_evidence
from kefu.services.faq import DEFAULT_ARTICLES_FILE, import_articles
from kefu.services.ports import Storage
from kefu.services.uow import Database

SEED = 2026
#: the password of every demo account (demo data only: never use it anywhere real)
DEMO_PASSWORD = "kefu123"
SELF_SELLER = "S0001"
DEMO_CUSTOMER = "C00001"
PLUS_CUSTOMER = "C00002"

# ── catalog ───────────────────────────────────────────────────────────────────────────────

#: id, name, type, the city it ships from
SELLERS: tuple[tuple[str, str, str, str], ...] = (
    (SELF_SELLER, "kefu 自营", "self_operated", "北京"),
    ("S1001", "潮流服饰旗舰店", "third_party", "杭州"),
    ("S1002", "母婴优选店", "third_party", "上海"),
    ("S1003", "数码配件专营店", "third_party", "深圳"),
    ("S1004", "美妆小铺", "third_party", "广州"),
)

#: seller-account usernames for the third-party sellers (``seller`` is the one to try first)
SELLER_USERS: dict[str, str] = {"S1001": "seller", "S1002": "seller_muying", "S1003": "seller_shuma",
                                "S1004": "seller_meizhuang"}


@dataclass(frozen=True, slots=True)
class DemoProduct:
    sku: str
    seller: str
    name: str
    category: str
    brand: str
    price: str
    warranty_days: int = 0
    services: tuple[str, ...] = ()
    price_protection_days: int = 0
    non_returnable: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)


_S = SELF_SELLER
PRODUCTS: tuple[DemoProduct, ...] = (
    # phones
    DemoProduct("100120000001", _S, "华为 Mate 70 Pro 12GB+512GB 雅川青", "phone", "华为", "6999.00", 365,
                ("extended_warranty_1y",), 30, attributes={
                    "colour": "雅川青", "storage": "512GB", "memory": "12GB", "battery": "5500mAh",
                    "weight": "221g", "screen": "6.9 英寸 OLED"}),
    DemoProduct("100120000002", _S, "Apple iPhone 16 256GB 黑色", "phone", "Apple", "5999.00", 365,
                ("accident_protection",), 30, attributes={
                    "colour": "黑色", "storage": "256GB", "battery": "3561mAh", "weight": "170g",
                    "screen": "6.1 英寸"}),
    DemoProduct("100120000003", _S, "小米 15 16GB+512GB 白色", "phone", "小米", "4799.00", 365, (), 30,
                attributes={"colour": "白色", "storage": "512GB", "memory": "16GB", "battery": "5400mAh",
                            "weight": "191g", "screen": "6.36 英寸"}),
    DemoProduct("100120000004", _S, "OPPO Find X8 16GB+256GB 星野黑", "phone", "OPPO", "4199.00", 365, (), 30,
                attributes={"colour": "星野黑", "storage": "256GB", "battery": "5630mAh", "weight": "193g"}),
    DemoProduct("100120000005", "S1003", "一加 Ace 3 12GB+256GB 鸣沙金", "phone", "一加", "2299.00", 365, (), 15,
                attributes={"colour": "鸣沙金", "storage": "256GB", "battery": "5500mAh", "weight": "207g"}),
    # laptops
    DemoProduct("100130000001", _S, "联想小新 Pro 14 2024 酷睿 Ultra5 32G 1T", "laptop", "联想", "5499.00", 730,
                ("extended_warranty_1y",), 30, attributes={
                    "colour": "鸽子灰", "cpu": "Intel Core Ultra 5 125H", "memory": "32GB",
                    "storage": "1TB SSD", "screen": "14 英寸 2.8K 120Hz", "weight": "1.46kg",
                    "battery": "84Wh"}),
    DemoProduct("100130000002", _S, "华为 MateBook 14 2024 酷睿 Ultra5 16G 1T", "laptop", "华为", "4999.00", 730,
                (), 30, attributes={"colour": "深空灰", "memory": "16GB", "storage": "1TB SSD",
                                    "screen": "14.2 英寸 OLED", "weight": "1.31kg", "battery": "70Wh"}),
    DemoProduct("100130000003", _S, "Apple MacBook Air 13 M3 16GB 512GB 午夜色", "laptop", "Apple", "8999.00",
                365, ("accident_protection",), 30, attributes={
                    "colour": "午夜色", "chip": "Apple M3", "memory": "16GB", "storage": "512GB SSD",
                    "screen": "13.6 英寸", "weight": "1.24kg", "battery": "52.6Wh"}),
    # appliances
    DemoProduct("100140000001", _S, "美的 1.5 匹 新一级能效 变频冷暖 挂式空调", "appliance", "美的", "2899.00", 2190,
                ("extended_warranty_1y",), 30, attributes={
                    "power": "1.5 匹", "energy_rating": "新一级", "area": "16–22㎡", "colour": "白色"}),
    DemoProduct("100140000002", _S, "海尔 470 升 十字对开门 一级能效 冰箱", "appliance", "海尔", "3299.00", 1095,
                ("extended_warranty_1y",), 30, attributes={
                    "capacity": "470L", "energy_rating": "一级", "size": "833×673×1905mm", "colour": "星石蓝"}),
    DemoProduct("100140000003", _S, "戴森 V12 Detect Slim 无绳吸尘器", "appliance", "戴森", "4490.00", 730,
                ("accident_protection",), 15, attributes={
                    "weight": "2.2kg", "battery": "60 分钟续航", "colour": "镍黄色"}),
    DemoProduct("100140000004", _S, "小米 米家 IH 电饭煲 4L", "appliance", "小米", "399.00", 365, (), 15,
                attributes={"capacity": "4L", "power": "1100W", "colour": "白色"}),
    DemoProduct("100140000005", _S, "九阳 破壁免滤 豆浆机 1.2L", "appliance", "九阳", "299.00", 365, (), 15,
                attributes={"capacity": "1.2L", "power": "1000W", "colour": "暖白"}),
    DemoProduct("100140000006", "S1003", "石头 P10S Pro 扫拖机器人", "appliance", "石头", "2999.00", 365,
                ("accident_protection",), 15, attributes={
                    "suction": "10000Pa", "battery": "5200mAh", "colour": "白色"}),
    # electronics accessories
    DemoProduct("100150000001", "S1003", "Anker 安克 65W 氮化镓充电器 三口", "electronics", "Anker", "149.00",
                540, attributes={"power": "65W", "ports": "2C1A", "weight": "112g",
                                 "compatibility": "iPhone / 华为 / 小米 / MacBook"}),
    DemoProduct("100150000002", "S1003", "绿联 Type-C 数据线 100W 1.5 米", "electronics", "绿联", "39.00", 365,
                attributes={"length": "1.5m", "power": "100W", "compatibility": "USB-C 设备"}),
    DemoProduct("100150000003", "S1003", "倍思 移动电源 20000mAh 22.5W", "electronics", "倍思", "129.00", 365,
                attributes={"battery": "20000mAh", "power": "22.5W", "weight": "395g"}),
    DemoProduct("100150000004", "S1003", "漫步者 Lolli Pro 3 真无线降噪耳机", "electronics", "漫步者", "599.00", 365,
                attributes={"battery": "单次 7 小时", "colour": "云白", "compatibility": "蓝牙 5.3"}),
    DemoProduct("100150000005", "S1003", "罗技 MX Master 3S 无线鼠标", "electronics", "罗技", "699.00", 730,
                attributes={"colour": "石墨黑", "battery": "70 天续航", "compatibility": "Windows / macOS"}),
    # clothing and shoes
    DemoProduct("200210000001", "S1001", "男士纯棉圆领短袖 T 恤 白色 XL", "clothing", "潮流服饰", "79.00", 0, (), 7,
                attributes={"size": "XL", "colour": "白色", "material": "100% 棉"}),
    DemoProduct("200210000002", "S1001", "女士双面羊毛大衣 驼色 M", "clothing", "潮流服饰", "899.00", 0, (), 7,
                attributes={"size": "M", "colour": "驼色", "material": "95% 羊毛 5% 羊绒"}),
    DemoProduct("200210000003", "S1001", "男士直筒牛仔裤 深蓝 32", "clothing", "潮流服饰", "199.00", 0, (), 7,
                attributes={"size": "32", "colour": "深蓝", "material": "98% 棉 2% 氨纶"}),
    DemoProduct("200210000004", "S1001", "轻薄白鸭绒羽绒服 黑色 L", "clothing", "潮流服饰", "599.00", 0, (), 7,
                attributes={"size": "L", "colour": "黑色", "material": "90% 白鸭绒"}),
    DemoProduct("200210000005", _S, "优衣库 女装 摇粒绒拉链外套 灰色 S", "clothing", "优衣库", "199.00", 0, (), 7,
                attributes={"size": "S", "colour": "灰色", "material": "100% 聚酯纤维"}),
    DemoProduct("200220000001", "S1001", "耐克 Air Force 1 '07 男子运动鞋 白色 42", "shoes", "耐克", "799.00", 0, (),
                7, attributes={"size": "42", "colour": "白色", "material": "皮革"}),
    DemoProduct("200220000002", "S1001", "安踏 C202 6 代 男子竞速跑鞋 41", "shoes", "安踏", "399.00", 0, (), 7,
                attributes={"size": "41", "colour": "荧光绿", "weight": "196g"}),
    DemoProduct("200220000003", "S1001", "李宁 韦德之道 11 篮球鞋 43", "shoes", "李宁", "1299.00", 0, (), 7,
                attributes={"size": "43", "colour": "黑红", "material": "织物 / 合成革"}),
    DemoProduct("200220000004", "S1001", "回力 经典帆布鞋 38", "shoes", "回力", "89.00", 0, (), 0,
                attributes={"size": "38", "colour": "白色", "material": "帆布"}),
    # baby
    DemoProduct("300310000001", "S1002", "帮宝适 一级帮 纸尿裤 L 码 52 片", "diaper", "帮宝适", "149.00", 0,
                ("size_exchange_90d",), 15, attributes={"size": "L（9–14kg）", "count": "52 片"}),
    DemoProduct("300310000002", "S1002", "花王 妙而舒 纸尿裤 M 码 64 片", "diaper", "花王", "129.00", 0,
                ("size_exchange_90d",), 15, attributes={"size": "M（6–11kg）", "count": "64 片"}),
    DemoProduct("300310000003", _S, "好奇 心钻装 纸尿裤 XL 码 32 片", "diaper", "好奇", "169.00", 0,
                ("size_exchange_90d",), 15, attributes={"size": "XL（12–17kg）", "count": "32 片"}),
    DemoProduct("300320000001", "S1002", "飞鹤 星飞帆 幼儿配方奶粉 3 段 700g", "food", "飞鹤", "298.00", 0, (), 15,
                True, attributes={"weight": "700g", "stage": "3 段（12–36 月）"}),
    DemoProduct("300330000001", "S1002", "贝亲 宽口径 玻璃奶瓶 240ml", "baby", "贝亲", "129.00", 0, (), 0,
                attributes={"capacity": "240ml", "material": "耐热玻璃"}),
    # food
    DemoProduct("400410000001", _S, "三只松鼠 每日坚果 坚果礼盒 1.5kg", "food", "三只松鼠", "168.00", 0, (), 7, True,
                attributes={"weight": "1.5kg", "shelf_life": "180 天"}),
    DemoProduct("400410000002", _S, "良品铺子 零食大礼包 1.2kg", "food", "良品铺子", "99.00", 0, (), 7, True,
                attributes={"weight": "1.2kg", "shelf_life": "240 天"}),
    DemoProduct("400410000003", _S, "蒙牛 特仑苏 纯牛奶 250ml×16 盒", "food", "蒙牛", "69.90", 0, (), 7, True,
                attributes={"weight": "4L", "shelf_life": "6 个月"}),
    # cosmetics
    DemoProduct("500510000001", "S1004", "雅诗兰黛 特润修护肌活精华露 小棕瓶 50ml", "cosmetics", "雅诗兰黛", "690.00",
                0, (), 15, True, attributes={"capacity": "50ml", "skin_type": "所有肤质"}),
    DemoProduct("500510000002", "S1004", "兰蔻 清滢柔肤水 粉水 400ml", "cosmetics", "兰蔻", "530.00", 0, (), 15, True,
                attributes={"capacity": "400ml"}),
    DemoProduct("500510000003", "S1004", "完美日记 小细跟 口红 #M03", "cosmetics", "完美日记", "69.00", 0, (), 7, True,
                attributes={"colour": "M03 焦糖奶茶", "weight": "3.5g"}),
    DemoProduct("500510000004", "S1004", "花西子 空气蜜粉 散粉 8g", "cosmetics", "花西子", "149.00", 0, (), 7, True,
                attributes={"weight": "8g"}),
    DemoProduct("500510000005", "S1004", "珀莱雅 双抗精华 3.0 30ml", "cosmetics", "珀莱雅", "299.00", 0, (), 15, True,
                attributes={"capacity": "30ml"}),
    # jewelry
    DemoProduct("600610000001", _S, "周大福 足金 转运珠 红绳手链", "jewelry", "周大福", "1899.00", 0, (), 0, True,
                attributes={"material": "足金 999", "weight": "约 1.95g"}),
    DemoProduct("600610000002", _S, "周生生 18K 金 项链 45cm", "jewelry", "周生生", "2599.00", 0, (), 0, True,
                attributes={"material": "18K 黄金", "length": "45cm"}),
    DemoProduct("600610000003", "S1004", "潘多拉 闪耀心形 925 银手链", "jewelry", "潘多拉", "899.00", 0, (), 0, True,
                attributes={"material": "925 银", "length": "17cm"}),
    # virtual
    DemoProduct("700710000001", _S, "腾讯视频 VIP 会员 年卡", "virtual", "腾讯视频", "198.00", 0, (), 0, True,
                attributes={"duration": "12 个月", "delivery": "充值到账号"}),
    DemoProduct("700710000002", _S, "kefu E 卡 500 元 电子卡", "virtual", "kefu", "500.00", 0, (), 0, True,
                attributes={"face_value": "500 元", "delivery": "电子卡密"}),
    # books
    DemoProduct("800810000001", _S, "三体（全三册）刘慈欣", "book", "重庆出版社", "93.00", 0, (), 15,
                attributes={"isbn": "9787536692930", "pages": "1,340", "weight": "1.2kg"}),
    DemoProduct("800810000002", _S, "人类简史：从动物到上帝", "book", "中信出版社", "68.00", 0, (), 15,
                attributes={"isbn": "9787508647357", "pages": "440"}),
    DemoProduct("800810000003", _S, "Python 编程：从入门到实践（第 3 版）", "book", "人民邮电出版社", "109.80",
                0, (), 15,
                attributes={"isbn": "9787115613639", "pages": "532"}),
    DemoProduct("800810000004", _S, "活着 余华", "book", "作家出版社", "45.00", 0, (), 15,
                attributes={"isbn": "9787506365437", "pages": "191"}),
)
PRODUCT_BY_SKU = {p.sku: p for p in PRODUCTS}

#: gifts a seller puts in with some lines of a category: name, declared value
GIFTS: dict[str, tuple[str, str]] = {
    "phone": ("原装快充头", "99.00"), "laptop": ("电脑内胆包", "129.00"), "appliance": ("加长插线板", "39.00"),
    "cosmetics": ("旅行装小样套装", "59.00"), "diaper": ("婴儿湿巾 80 抽", "19.90"),
    "shoes": ("运动袜两双", "29.00"), "electronics": ("收纳袋", "9.90"),
}

# ── people and places ─────────────────────────────────────────────────────────────────────

SURNAMES = (("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
            ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"),
            ("胡", "hu"), ("朱", "zhu"), ("高", "gao"), ("林", "lin"), ("何", "he"), ("郭", "guo"),
            ("马", "ma"), ("罗", "luo"), ("梁", "liang"), ("宋", "song"), ("郑", "zheng"), ("谢", "xie"),
            ("韩", "han"), ("唐", "tang"), ("冯", "feng"), ("于", "yu"), ("董", "dong"), ("萧", "xiao"))
GIVEN = (("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"),
         ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
         ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
         ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"),
         ("子涵", "zihan"), ("浩然", "haoran"), ("欣怡", "xinyi"), ("梓萱", "zixuan"), ("宇轩", "yuxuan"),
         ("一诺", "yinuo"), ("思远", "siyuan"), ("雨桐", "yutong"), ("晨阳", "chenyang"))
MAIL_HOSTS = ("163.com", "qq.com", "126.com", "gmail.com", "outlook.com", "foxmail.com")
PHONE_PREFIXES = ("138", "139", "136", "186", "135", "158", "188", "177")
CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "北京": (("朝阳区", "建国路 88 号"), ("海淀区", "中关村大街 27 号"), ("丰台区", "丽泽路 16 号")),
    "上海": (("浦东新区", "张江路 100 号"), ("徐汇区", "漕溪北路 398 号"), ("静安区", "南京西路 1266 号")),
    "广州": (("天河区", "天河路 208 号"), ("越秀区", "中山五路 33 号")),
    "深圳": (("南山区", "科技园南路 16 号"), ("福田区", "深南大道 6008 号")),
    "杭州": (("西湖区", "文三路 478 号"), ("滨江区", "网商路 699 号")),
    "成都": (("武侯区", "天府大道北段 1700 号"), ("锦江区", "红星路三段 1 号")),
    "武汉": (("洪山区", "珞喻路 1037 号"), ("江汉区", "建设大道 568 号")),
    "南京": (("鼓楼区", "中山北路 30 号"), ("玄武区", "珠江路 88 号")),
    "西安": (("雁塔区", "小寨东路 126 号"),), "重庆": (("渝中区", "解放碑民族路 188 号"),),
    "苏州": (("工业园区", "星湖街 328 号"),), "长沙": (("岳麓区", "麓山南路 932 号"),),
}
HUBS = ("北京", "廊坊", "上海", "嘉兴", "广州", "东莞", "武汉", "郑州", "成都", "西安", "南京", "杭州")
WAREHOUSES = ("北京亚洲一号", "上海亚洲一号", "广州亚洲一号", "武汉亚洲一号", "成都亚洲一号")
THIRD_PARTY_CARRIERS = (("顺丰速运", "SF"), ("中通快递", "ZT"), ("圆通速递", "YT"), ("韵达快递", "YD"))
#: coupon thresholds and what they take off (满减)
COUPONS = ((Decimal("999"), Decimal("100")), (Decimal("599"), Decimal("60")), (Decimal("299"), Decimal("30")),
           (Decimal("199"), Decimal("20")))


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    display_name: str
    try_this: str
    customer_id: str | None = None
    seller_id: str | None = None
    employee_no: str | None = None


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "admin", "系统管理员", "政策与用户管理、查看全部数据"),
    DemoAccount("agent", "agent", "客服小王", "审核队列：把人工审核中的笔记本故障退货一路处理到退款",
                employee_no="KF0001"),
    DemoAccount("agent2", "agent", "客服小李", "第二位客服：同一队列，试试并发处理", employee_no="KF0002"),
    DemoAccount("supervisor", "supervisor", "客服主管老周",
                "服务台主管：看全部队列、点名投诉（D9）、审批补偿、满意度报表", employee_no="KF0100"),
    DemoAccount("seller", "seller", "潮流服饰旗舰店", "商家审核：同意或拒绝待商家审核的退货、换货",
                seller_id="S1001"),
    DemoAccount("seller_muying", "seller", "母婴优选店", "母婴店的售后（尿裤尺码随心换）", seller_id="S1002"),
    DemoAccount("seller_shuma", "seller", "数码配件专营店", "数码店的售后审核", seller_id="S1003"),
    DemoAccount("seller_meizhuang", "seller", "美妆小铺", "美妆店的售后（化妆品不支持七天无理由）",
                seller_id="S1004"),
    DemoAccount("customer", "customer", "王小明", "近 5 天签收的订单可直接申请七天无理由退货，立即得到结果",
                customer_id=DEMO_CUSTOMER),
    DemoAccount("plus", "customer", "李娜", "PLUS 会员：上门取件即退款", customer_id=PLUS_CUSTOMER),
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    sellers: int
    products: int
    customers: int
    orders: int
    order_lines: int
    deliveries: int
    applications: int
    users: int
    statuses: dict[str, int]
    loaded: bool


# ── orders ────────────────────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class _Party:
    id: str
    name: str
    address: str
    city: str
    level: str


class _Builder:
    """Builds ORM rows for the catalog and orders, drawing every choice from one seeded RNG."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.orders: list[Order] = []
        self.customers: list[_Party] = []
        self.by_seller: dict[str, list[DemoProduct]] = {}
        for p in PRODUCTS:
            self.by_seller.setdefault(p.seller, []).append(p)
        self.seller_type = {s[0]: s[2] for s in SELLERS}
        self.seller_city = {s[0]: s[3] for s in SELLERS}

    def money(self, low: float, high: float) -> Decimal:
        return Decimal(self.rng.randint(int(low * 100), int(high * 100))) / 100

    def customer_rows(self, count: int) -> list[Customer]:
        rows = []
        fixed = {DEMO_CUSTOMER: ("王小明", "wangxiaoming", "regular"), PLUS_CUSTOMER: ("李娜", "lina", "plus")}
        for n in range(1, count + 1):
            cid = f"C{n:05d}"
            if cid in fixed:
                name, pinyin, level = fixed[cid]
            else:
                (sur, sur_py), (given, given_py) = self.rng.choice(SURNAMES), self.rng.choice(GIVEN)
                name, pinyin = sur + given, sur_py + given_py
                roll = self.rng.random()
                level = "plus" if roll < 0.15 else "enterprise" if roll < 0.18 else "regular"
            phone = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            email = f"{pinyin}{self.rng.randint(1, 999)}@{self.rng.choice(MAIL_HOSTS)}" \
                if self.rng.random() < 0.5 or cid in fixed else None
            city = self.rng.choice(list(CITIES))
            district, street = self.rng.choice(CITIES[city])
            room = f"{self.rng.randint(1, 30)} 栋 {self.rng.randint(1, 28)}0{self.rng.randint(1, 8)} 室"
            address = f"{city}市{district}{street} {room}"
            self.customers.append(_Party(cid, name, address, city, level))
            rows.append(Customer(id=cid, name=name, phone=phone, email=email, level=level,
                                 created_at=self.now - timedelta(days=self.rng.randint(90, 1500))))
        return rows

    def order(self, customer: _Party, seller: str, items: Sequence[tuple[DemoProduct, int]], paid_at: datetime,
              *, coupon: bool = True, delivery: str | None = None, signed_at: datetime | None = None,
              gifts: bool = True) -> Order:
        """One order with its lines, payments and delivery; amounts add up to the cent.

        ``delivery``: ``signed``, ``in_transit``, ``lost`` or ``None`` to let the dates decide.
        """
        rng = self.rng
        subtotal = sum((Decimal(p.price) * q for p, q in items), ZERO)
        discount = ZERO
        if coupon and rng.random() < 0.45:
            discount = next((off for floor, off in COUPONS if subtotal >= floor), ZERO)
        total = to_cents(subtotal - discount)
        shares = split_proportionally(total, [Decimal(p.price) * q for p, q in items])
        order = Order(id="", customer_id=customer.id, seller_id=seller, status="paid", paid_at=paid_at,
                      shipping_insurance=rng.random() < 0.3, total_paid=total, address=customer.address,
                      content_hash="", created_at=paid_at, updated_at=paid_at)
        for n, ((p, q), share) in enumerate(zip(items, shares, strict=True)):
            line = OrderLine(order=order, line_no=n, sku=p.sku, name=p.name, category=p.category, quantity=q,
                             unit_price=Decimal(p.price), paid_amount=share, warranty_days=p.warranty_days,
                             services=list(p.services), price_protection_days=p.price_protection_days,
                             non_returnable_confirmed=p.non_returnable)
            if gifts and p.category in GIFTS and rng.random() < 0.25:
                name, value = GIFTS[p.category]
                line.gifts.append(OrderGift(name=name, value=Decimal(value)))
        self._payments(order, total)
        self._delivery(order, customer, seller, paid_at, delivery, signed_at)
        order.content_hash = hashlib.sha256(
            f"demo:{customer.id}:{seller}:{paid_at.isoformat()}:{total}".encode()).hexdigest()
        self.orders.append(order)
        return order

    def _payments(self, order: Order, total: Decimal) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.25 and total > 20:
            balance = min(to_cents(total * Decimal(rng.randint(10, 50)) / 100), self.money(10, 300))
            order.payments.append(OrderPayment(method="card", amount=total - balance))
            order.payments.append(OrderPayment(method="balance", amount=balance))
        elif roll < 0.32 and total > 20:
            balance = min(to_cents(total / 4), self.money(5, 100))
            order.payments.append(OrderPayment(method=rng.choice(("wechat", "alipay")), amount=total - balance))
            order.payments.append(OrderPayment(method="balance", amount=balance))
        else:
            method = rng.choices(("wechat", "alipay", "card"), weights=(40, 35, 25))[0]
            order.payments.append(OrderPayment(method=method, amount=total))

    def _delivery(self, order: Order, customer: _Party, seller: str, paid_at: datetime, wanted: str | None,
                  signed_at: datetime | None) -> None:
        rng = self.rng
        third_party = self.seller_type[seller] == "third_party"
        if signed_at is not None:
            shipped = signed_at - timedelta(hours=rng.uniform(18, 40))
        else:
            shipped = paid_at + timedelta(hours=rng.uniform(1, 30))
        if shipped >= self.now:
            return                                    # paid, not shipped yet
        if third_party:
            carrier = "third_party"
            carrier_name, prefix = rng.choice(THIRD_PARTY_CARRIERS)
            tracking = f"{prefix}{rng.randrange(10**12):012d}"
            origin = self.seller_city[seller]
        elif rng.random() < 0.1:
            carrier, carrier_name, tracking = "self_pickup", "kefu 自提点", f"ZT{rng.randrange(10**10):010d}"
            origin = rng.choice(WAREHOUSES)
        else:
            carrier, carrier_name = "platform", "京东物流"
            tracking = f"JD{rng.randrange(10**13):013d}"
            origin = rng.choice(WAREHOUSES)
        arrive = signed_at or shipped + timedelta(hours=rng.uniform(16, 72))
        status = wanted or ("lost" if rng.random() < 0.01 and shipped < self.now - timedelta(days=8)
                            else "signed" if arrive <= self.now else "in_transit")
        delivery = Delivery(carrier=carrier, carrier_name=carrier_name, tracking_no=tracking, status=status,
                            shipped_at=shipped)
        order.delivery = delivery
        order.status = "shipped"
        hub = rng.choice(HUBS)
        where = f"{customer.city}{customer.address.split('市', 1)[1][:3]}"
        events = [(shipped, origin, f"您的快件已由【{origin}】揽收，{carrier_name}已揽件"),
                  (shipped + (arrive - shipped) * 0.4, hub, f"快件已到达【{hub}分拨中心】，运输中")]
        if status == "lost":
            events.append((shipped + (arrive - shipped) * 0.9, hub,
                           f"快件在【{hub}分拨中心】转运异常，已确认丢失，请联系客服处理"))
        elif status == "in_transit":
            if shipped + (arrive - shipped) * 0.8 < self.now:
                events.append((shipped + (arrive - shipped) * 0.8, customer.city,
                               f"快件已到达【{customer.city}转运中心】，正发往派送站"))
        else:
            if carrier == "self_pickup":
                events.append((arrive - timedelta(hours=rng.uniform(2, 20)), where,
                               "您的订单已到达自提点，请凭取件码取件"))
                events.append((arrive, where, "已在自提点取件，感谢您的光临"))
            else:
                events.append((arrive - timedelta(hours=rng.uniform(1, 5)), where,
                               f"快件已到达【{where}营业部】，快递员正在派送，请保持电话畅通"))
                who = rng.choice(("本人", "家人", "前台", "快递柜"))
                events.append((arrive, where, f"您的快件已签收，签收人：{who}。感谢使用{carrier_name}"))
            if carrier == "third_party":
                delivery.arrived_at = arrive
                if rng.random() < 0.3:
                    delivery.signed_at = arrive
            else:
                delivery.signed_at = arrive
            order.status = "completed" if arrive < self.now - timedelta(days=15) else "delivered"
        for at, location, text in events:
            if at <= self.now:                        # a parcel still on its way has no future events
                delivery.events.append(TrackingEvent(at=at, location=location, description=text))

    def random_items(self, seller: str) -> list[tuple[DemoProduct, int]]:
        rng = self.rng
        count = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        products = rng.sample(self.by_seller[seller], min(count, len(self.by_seller[seller])))
        return [(p, rng.choice((1, 1, 2, 3)) if Decimal(p.price) < 200 else 1) for p in products]


# ── applications ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class _Scenario:
    """One application: the order it is on, the request, and the steps it has gone through."""

    expect: Status
    sku: str
    signed_ago: float            # days before now the parcel was signed for
    submit_ago: float            # days before now the application was submitted
    type: RequestType = RequestType.RETURN
    reason: Reason = Reason.NO_REASON
    steps: tuple[str, ...] = ()
    who: str = "random"          # random | customer | plus
    evidence: bool = False
    condition: frozenset[str] = frozenset()
    delivery: str = "signed"


R, E, RO, RP = RequestType.RETURN, RequestType.EXCHANGE, RequestType.REFUND_ONLY, RequestType.REPAIR
NR, Q = Reason.NO_REASON, Reason.QUALITY
SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario(Status.APPROVED, "100120000003", 2, 0.3),
    _Scenario(Status.APPROVED, "200220000002", 3, 1.0, steps=("review",)),
    _Scenario(Status.REJECTED, "400410000001", 2, 1.0),                                   # N2 food
    _Scenario(Status.REJECTED, "200210000001", 3, 2.0, condition=frozenset({"tags_removed", "used"})),
    _Scenario(Status.REJECTED, "800810000004", 3, 2.0, RO, Reason.NOT_RECEIVED, ("reject",)),
    _Scenario(Status.NEEDS_INFO, "100140000001", 5, 1.0, R, Q),
    _Scenario(Status.NEEDS_INFO, "500510000002", 4, 0.5, R, Reason.NOT_AS_DESCRIBED),
    _Scenario(Status.MANUAL_REVIEW, "100130000001", 6, 0.2, R, Q, who="customer", evidence=True),
    _Scenario(Status.MANUAL_REVIEW, "100130000003", 8, 3.0, R, Q, evidence=True),          # overdue
    _Scenario(Status.MANUAL_REVIEW, "800810000002", 2, 0.5, RO, Reason.NOT_RECEIVED),
    _Scenario(Status.SELLER_REVIEW, "200210000004", 3, 0.1),
    _Scenario(Status.SELLER_REVIEW, "200210000003", 4, 1.5),                              # overdue
    _Scenario(Status.SELLER_REVIEW, "100150000004", 5, 0.5, R, Q, evidence=True),
    _Scenario(Status.PICKUP_SCHEDULED, "100140000003", 4, 1.0, R, Q, ("schedule_pickup",), evidence=True),
    _Scenario(Status.PICKED_UP, "100140000005", 5, 2.0, R, Q, ("schedule_pickup", "collect"), evidence=True),
    _Scenario(Status.PICKED_UP, "100140000004", 5, 2.0, R, Q, ("schedule_pickup", "collect"), who="plus",
              evidence=True),
    _Scenario(Status.SHIPPED_BACK, "800810000002", 3, 1.0, steps=("ship_back",)),
    _Scenario(Status.RECEIVED, "100120000002", 5, 3.0, steps=("ship_back", "receive")),
    _Scenario(Status.INSPECTED, "100130000002", 5, 3.0, steps=("ship_back", "receive", "inspect")),
    _Scenario(Status.INSPECTION_FAILED, "100120000004", 5, 3.0, steps=("ship_back", "receive", "inspect_fail")),
    _Scenario(Status.REFUNDED, "100150000005", 6, 5.0,
              steps=("review", "ship_back", "receive", "inspect", "refund")),
    _Scenario(Status.REFUNDED, "100150000001", 12, 10.0, RO, Reason.NOT_RECEIVED, ("refund",), delivery="lost"),
    _Scenario(Status.REPLACEMENT_SHIPPED, "200220000001", 6, 5.0, E, NR,
              ("review", "ship_back", "receive", "inspect", "ship_replacement")),
    _Scenario(Status.REPAIRED, "100140000002", 40, 10.0, RP, Q,
              ("ship_back", "receive", "inspect", "return_repaired"), evidence=True),
    _Scenario(Status.COMPLETED, "800810000001", 12, 7.0,
              steps=("ship_back", "receive", "inspect", "refund", "complete", "rate"), who="customer"),
    _Scenario(Status.COMPLETED, "300310000001", 30, 20.0, E, Reason.SIZE_EXCHANGE,
              ("review", "ship_back", "receive", "inspect", "ship_replacement", "complete", "rate")),
    _Scenario(Status.COMPLETED, "100120000001", 50, 12.0, RP, Q,
              ("ship_back", "receive", "inspect", "return_repaired", "complete", "rate"), evidence=True),
    _Scenario(Status.COMPLETED, "100120000003", 15, 9.0,
              steps=("ship_back", "receive", "inspect", "refund", "complete", "rate"), who="plus"),
    _Scenario(Status.CANCELLED, "800810000003", 2, 1.0, steps=("cancel",)),
    _Scenario(Status.CANCELLED, "100150000003", 4, 2.0, R, Reason.MISSING_PARTS, ("cancel",)),
)

DESCRIPTIONS: dict[Reason, str] = {
    NR: "不想要了，商品未拆封。",
    Q: "使用两天后出现故障：屏幕闪烁，重启无效。",
    Reason.NOT_AS_DESCRIBED: "收到的颜色和页面描述不一致。",
    Reason.NOT_RECEIVED: "物流一直没有更新，没有收到货。",
    Reason.MISSING_PARTS: "包装里少了充电线。",
    Reason.SIZE_EXCHANGE: "宝宝长得快，L 码偏小，想换 XL 码。",
}


def evidence_png(seed: int) -> bytes:
    """A small generated photo: a grey panel with a red 'crack', as evidence in the demo."""
    image = Image.new("RGB", (96, 64), (200, 200, 205))
    draw = ImageDraw.Draw(image)
    draw.line([(10 + seed % 20, 5), (48, 32), (40, 44), (86, 60)], fill=(200, 30, 30), width=3)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@dataclass(slots=True)
class _Actors:
    agent: Actor
    sellers: dict[str, Actor]
    customers: dict[str, Actor]


class _Runner:
    """Runs the scenarios through the after-sales services with a clock moved back in time."""

    def __init__(self, db: Database, book: PolicyBook, storage: Storage, actors: _Actors, now: datetime) -> None:
        self.db, self.book, self.storage, self.actors, self.now = db, book, storage, actors, now

    def customer_actor(self, customer: _Party) -> Actor:
        return self.actors.customers.get(customer.id) or Actor(
            user_id=None, role=Role.CUSTOMER, customer_id=customer.id, display_name=customer.name)

    def run(self, sc: _Scenario, order: Order, customer: _Party, n: int) -> Application:
        clock = FixedClock(self.now - timedelta(days=sc.submit_ago))
        me = self.customer_actor(customer)
        # a customer without an account cannot upload: the agent files it for them, with the photo
        applicant = me if me.user_id is not None or not sc.evidence else self.actors.agent
        evidence: tuple[int, ...] = ()
        if sc.evidence:
            ev = upload_evidence(self.db, self.storage, applicant, f"photo-{n}.png", evidence_png(n), "image/png",
                                 1024 * 1024, clock)
            evidence = (ev.id,)
        req = ApplicationRequest(order_id=order.id, line=0, type=sc.type, reason=sc.reason,
                                 condition=sc.condition, description=DESCRIPTIONS.get(sc.reason, ""),
                                 evidence_ids=evidence)
        app = submit_application(self.db, applicant, req, self.book, clock)
        gap = min(20.0, sc.submit_ago * 24 * 0.85 / max(len(sc.steps), 1))
        handler = self.actors.sellers.get(order.seller_id, self.actors.agent)
        for step in sc.steps:
            clock.advance(hours=gap)
            app = self._step(app, step, me, handler, clock, n)
        if app.status != sc.expect.value:
            raise RuntimeError(f"demo scenario on {sc.sku} ended in {app.status}, expected {sc.expect.value}: "
                               f"{app.decision.get('rules')}")
        return app

    def _step(self, app: Application, step: str, me: Actor, handler: Actor, clock: FixedClock,
              n: int) -> Application:
        agent = self.actors.agent
        known = {a.value for a in Action}
        act: Action | None = Action(step) if step in known else None
        by, details = handler, TransitionInput()
        if step == "review":
            if app.status == Status.APPROVED.value:
                return app
            act, by = Action.APPROVE, handler if app.status == Status.SELLER_REVIEW.value else agent
            details = TransitionInput(note="已核实，同意售后")
        elif step == "reject":
            act, by = Action.REJECT, agent
            details = TransitionInput(note="物流记录显示本人已签收，且签收照片清晰，驳回仅退款申请。")
        elif step == "schedule_pickup":
            by = me
            details = TransitionInput(pickup_at=clock() + timedelta(days=1), note="工作日白天均可")
        elif step == "ship_back":
            by = me
            details = TransitionInput(waybill=f"SF{1400000000 + n * 7919:010d}", carrier="顺丰速运")
        elif step == "inspect":
            details = TransitionInput(passed=True, note="外观完好，配件齐全")
        elif step == "inspect_fail":
            act = Action.INSPECT
            details = TransitionInput(passed=False, note="机身有明显划痕且已激活，影响二次销售，原物寄回")
        elif step == "ship_replacement":
            details = TransitionInput(waybill=f"JD{8800000000000 + n * 104729:013d}")
        elif step == "rate":
            by = me
            details = TransitionInput(rating=5 if n % 3 else 4, note="处理很快，客服态度好")
        elif step == "cancel":
            by = me
            details = TransitionInput(note="问题已解决，不需要售后了")
        if act is None:
            raise ValueError(f"unknown demo step {step!r}")
        return transition_application(self.db, by, app.number, act, details, self.book, clock)


# ── the loader ────────────────────────────────────────────────────────────────────────────


def is_loaded(db: Database) -> bool:
    """Whether the demo data set is already in this database (its platform store exists)."""
    with db.read() as uow:
        return uow.session.get(Seller, SELF_SELLER) is not None


def load_demo(db: Database, storage: Storage, book: PolicyBook, *, clock: Clock = system_clock,
              scale: float = 1.0, if_empty: bool = False) -> DemoSummary:
    """Load the demo data set into a migrated, empty database and return what is there.

    ``scale`` shrinks or grows the bulk data (1.0: ~200 customers and ~2,000 orders); the demo
    accounts and the application scenarios are always complete. With ``if_empty`` nothing is
    written when the demo data is already present.
    """
    if is_loaded(db):
        if if_empty:
            return summarize(db, loaded=False)
        raise RuntimeError("demo data is already loaded in this database (use --if-empty to skip)")
    now = clock()
    rng = random.Random(SEED)
    builder = _Builder(rng, now)
    n_customers = max(20, round(200 * scale))
    n_orders = max(100, round(2000 * scale))

    customers = builder.customer_rows(n_customers)
    parties = builder.customers
    sellers = [Seller(id=sid, name=name, type=kind, created_at=now - timedelta(days=900)) for sid, name, kind, _ in
               SELLERS]
    products = [Product(sku=p.sku, seller_id=p.seller, name=p.name, category=p.category, brand=p.brand,
                        price=Decimal(p.price), warranty_days=p.warranty_days, services=list(p.services),
                        price_protection_days=p.price_protection_days, non_returnable=p.non_returnable,
                        attributes=dict(p.attributes)) for p in PRODUCTS]

    demo, plus = parties[0], parties[1]
    others = parties[2:]
    seller_ids = [s[0] for s in SELLERS]
    seller_weights = (55, 12, 11, 12, 10)
    for _ in range(n_orders - 11 - 2 * len(SCENARIOS)):
        seller = rng.choices(seller_ids, weights=seller_weights)[0]
        paid = now - timedelta(seconds=rng.uniform(600, 60 * 86400))
        builder.order(rng.choice(others), seller, builder.random_items(seller), paid)

    # the demo customer: three eligible self-operated orders signed in the last days, a
    # third-party one, a food one (no 7-day return), and older orders
    def signed(days: float) -> datetime:
        return now - timedelta(days=days)

    recent = (("100120000003", 1.2), ("800810000001", 2.1), ("100140000005", 3.3), ("400410000002", 2.6))
    for sku, days in recent:
        builder.order(demo, SELF_SELLER, [(PRODUCT_BY_SKU[sku], 1)], signed(days) - timedelta(days=2),
                      coupon=False, delivery="signed", signed_at=signed(days), gifts=False)
    builder.order(demo, "S1001", [(PRODUCT_BY_SKU["200220000003"], 1)], signed(1.8) - timedelta(days=2),
                  delivery="signed", signed_at=signed(1.8))
    for sku, days in (("100140000001", 21.0), ("300310000003", 33.0), ("700710000001", 45.0),
                      ("200210000005", 27.5), ("100150000002", 52.0)):
        seller = PRODUCT_BY_SKU[sku].seller
        builder.order(demo, seller, [(PRODUCT_BY_SKU[sku], 1)], signed(days) - timedelta(days=2),
                      delivery="signed", signed_at=signed(days))
    builder.order(demo, SELF_SELLER, [(PRODUCT_BY_SKU["800810000003"], 1)], now - timedelta(hours=20),
                  delivery="in_transit")

    # one order per scenario, twice over (the second round for other customers)
    planned: list[tuple[_Scenario, Order, _Party]] = []
    scenario_customers = rng.sample(others, min(len(others), 2 * len(SCENARIOS)))
    for round_no in range(2):
        for i, sc in enumerate(SCENARIOS):
            if round_no == 0 and sc.who in ("customer", "plus"):
                who = demo if sc.who == "customer" else plus
            else:
                who = scenario_customers[(round_no * len(SCENARIOS) + i) % len(scenario_customers)]
            shift = 0.3 * round_no
            product = PRODUCT_BY_SKU[sc.sku]
            at = signed(sc.signed_ago + shift)
            order = builder.order(who, product.seller, [(product, 1)], at - timedelta(days=2), coupon=False,
                                  delivery=sc.delivery, signed_at=at if sc.delivery == "signed" else None,
                                  gifts=False)
            if sc.delivery == "lost" and order.delivery is not None:
                order.delivery.shipped_at = at - timedelta(days=1)
            planned.append((_Scenario(sc.expect, sc.sku, sc.signed_ago + shift, sc.submit_ago + shift, sc.type,
                                      sc.reason, sc.steps, sc.who if round_no == 0 else "random", sc.evidence,
                                      sc.condition, sc.delivery), order, who))

    builder.orders.sort(key=lambda o: o.paid_at)
    for n, order in enumerate(builder.orders):
        order.id = f"{3026_0000_0000 + n * 37 + rng.randrange(37)}"

    with db.uow() as uow:
        s = uow.session
        s.add_all(sellers)
        s.add_all(customers)
        s.flush()
        s.add_all(products)
        s.add_all(builder.orders)
        uow.commit()

    accounts = _create_accounts(db, clock)
    runner = _Runner(db, book, storage, accounts, now)
    for n, (sc, order, who) in enumerate(planned, start=1):
        runner.run(sc, order, who, n)
    import_articles(db, DEFAULT_ARTICLES_FILE, clock=clock)     # the assistant's FAQ (data/faq)
    return summarize(db, loaded=True)


def _create_accounts(db: Database, clock: Clock) -> _Actors:
    agent: Actor | None = None
    sellers: dict[str, Actor] = {}
    customers: dict[str, Actor] = {}
    for acc in ACCOUNTS:
        user = create_user(db, username=acc.username, password=DEMO_PASSWORD, role=acc.role,
                           display_name=acc.display_name, customer_id=acc.customer_id, seller_id=acc.seller_id,
                           employee_no=acc.employee_no, clock=clock)
        actor = Actor(user_id=user.id, role=user.role, customer_id=user.customer_id, seller_id=user.seller_id,
                      display_name=user.display_name)
        if acc.username == "agent":
            agent = actor
        if acc.seller_id:
            sellers[acc.seller_id] = actor
        if acc.customer_id:
            customers[acc.customer_id] = actor
    if agent is None:
        raise RuntimeError("the demo accounts have no agent")
    return _Actors(agent, sellers, customers)


def _count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def summarize(db: Database, *, loaded: bool) -> DemoSummary:
    """Counts of what the database holds, for the summary ``kefu demo`` prints."""
    with db.read() as uow:
        s = uow.session
        statuses = {str(st): int(c) for st, c in s.execute(
            select(Application.status, func.count()).group_by(Application.status).order_by(Application.status))}
        return DemoSummary(
            sellers=_count(s, Seller), products=_count(s, Product), customers=_count(s, Customer),
            orders=_count(s, Order), order_lines=_count(s, OrderLine), deliveries=_count(s, Delivery),
            applications=_count(s, Application), users=_count(s, User), statuses=statuses, loaded=loaded)

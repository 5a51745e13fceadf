"""Word lists and patterns of the compliance check (all over normalised, lower-case text).

Data, kept apart from the logic in :mod:`kefu.domain.compliance.checker` so that a reviewer can
read what is matched without reading how. Operators add literal phrases per kind in
``policies/compliance.toml`` (``[extra_words]``) instead of editing this file.
"""

from __future__ import annotations

import re


def _alt(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


# ── sentence structure ──────────────────────────────────────────────────────────────────────

SENTENCE_END = re.compile(r"[。！？!?；;\n]")
CLAUSE_END = re.compile(r"[。！？!?；;\n，,]")

#: a mention right after one of these (same clause) is a warning or a "no", not an offer
NEGATION = re.compile(_alt(
    "不会", "不要", "请勿", "切勿", "勿", "不得", "禁止", "严禁", "不能", "不可以", "不可", "千万别", "无需",
    "不需要", "不用", "从不", "绝不", "从未", "没有", "并非", "不是", "不在", "谨防", "警惕", "小心", "提防",
    "以防", "防止", "不接受", "不支持", "拒绝", "(?<![特分区类级识])别(?![的人处家])", "暂无", "没开",
    "无(?!论|门槛|理由|忧|线|需)", "不方便", "不便", "don'?t", "never", "do not", "not ",
))
#: between a negation and a mention, these end the negation's reach (没有问题的话加我微信)
NEGATION_BROKEN = re.compile(_alt("的话", "就", "再", "可以", "直接", "先", "吧", "也行", "还是", "那", "所以", "因此"))
#: anywhere in the sentence, these make the whole sentence a fraud warning
WARNING = re.compile(_alt(
    "诈骗", "骗子", "骗局", "冒充", "自称", "如有人", "如果有人", "若有人", "任何人", "陌生人", "谨防", "警惕",
    "提防", "上当", "受骗", "被骗", "防骗", "以防", "不要相信", "别相信", "请勿相信", "切勿相信", "不要轻信",
    "请勿轻信", "举报", "无法保障", "不受保护", "后果自负", "scam", "fraud",
))

# ── numbers ─────────────────────────────────────────────────────────────────────────────────

#: digits with short separators between them (138 0013 8000, 021-6438 1234, 6222.0212…)
DIGIT_RUN = re.compile(r"\d(?:[\s\-–—._/·()]{0,3}\d)*")
DIGIT_GROUP = re.compile(r"\d+")

#: what introduces a number that is not a contact: orders, waybills, codes, product data
ORDER_WORDS = _alt(
    "订单", "单号", "运单", "快递", "物流", "编号", "工单", "售后单", "退款单", "换货单", "申请号", "取件码",
    "验证码", "提货码", "取货码", "(?<![a-z])sn", "序列号", "串号", "imei", "meid", "发票", "税号", "尾号",
    "批次", "型号", "条码", "货号", "流水号", "交易号", "商品编码", "sku", "这单", "该单", "此单", "本单", "单子",
    "券码", "卡密", "兑换码", "激活码", "密码", "账单", "合同号", "保单", "order", "tracking", "waybill",
)
PHONE_WORDS = _alt(
    "电话", "手机", "号码", "致电", "拨打", "拨", "打我", "打给", "打这个", "热线", "座机", "联系方式", "来电",
    "(?<![a-z])tel", "call", "phone", "mobile", "联系我",
)
BANK_WORDS = _alt(
    "银行", "农行", "工行", "建行", "中行", "招行", "交行", "邮储", "浦发", "兴业", "民生", "光大", "华夏", "中信",
    "广发", "农商", "信用社", "储蓄卡", "借记卡", "银行卡", "卡号", "账号", "账户", "户名", "开户", "对公", "汇款",
    "汇到", "打到", "转到", "这张卡", "卡上", "bank", "account", "iban",
)
NUMBER_CONTEXT = re.compile(f"(?P<order>{ORDER_WORDS})|(?P<phone>{PHONE_WORDS})|(?P<bank>{BANK_WORDS})")
BANK_CONTEXT = re.compile(BANK_WORDS)
MONEY_BEFORE = re.compile(r"(?:[¥$€]|rmb|价|价格|金额|差价|运费|费用)\s*$")
MONEY_AFTER = re.compile(r"^\s*(?:元|块|rmb|万|千|百|%|折|分钱)")
#: letters glued to a number that still mean "phone/messenger number follows"
CONTACT_PREFIXES = frozenset({"tel", "phone", "mobile", "call", "no", "vx", "wx", "v", "qq", "dh", "sj"})

MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0[1-9]\d{9,10}")
SERVICE_NUMBER = re.compile(r"[48]00\d{7}")

# ── addresses on the web and mail ───────────────────────────────────────────────────────────

LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
#: a dot, also written out (点, dot, (dot), 。)
DOT = r"(?:\.|\s*(?:\(dot\)|\[dot\]|\{dot\}|<dot>|【dot】|点|。)\s*|\s+dot\s+)"
AT = r"(?:\s*(?:@|\(at\)|\[at\]|\{at\}|<at>|【at】|艾特|圈a|#)\s*|\s+at\s+)"
TLD = _alt(
    "com", "cn", "net", "org", "top", "xyz", "io", "cc", "co", "me", "info", "biz", "vip", "shop", "site", "online",
    "store", "tech", "app", "club", "link", "live", "tv", "ly", "hk", "tw", "jp", "us", "uk", "ru", "de", "fun",
    "wang", "ltd", "pro", "ink", "red", "icu", "asia", "mobi", "cloud", "group", "work", "space", "website", "xin",
    "ren", "love", "fit", "world", "life", "today", "news", "email", "net", "gov", "edu", "sg", "kr",
)
URL_TAIL = r"[a-z0-9\-._~%/?#=&+:@!$*;]"
EMAIL_PLAIN = re.compile(rf"[a-z0-9][a-z0-9._%+\-]*@{LABEL}(?:\.{LABEL})*\.[a-z]{{2,12}}(?![a-z])")
EMAIL_OBFUSCATED = re.compile(rf"[a-z0-9][a-z0-9._%+\-]*{AT}{LABEL}(?:{DOT}{LABEL})*{DOT}{TLD}(?![a-z])")
#: a written-out or real "@" somewhere: without one the obfuscated e-mail search is skipped
AT_HINT = re.compile(r"@|\(at\)|\[at\]|\{at\}|<at>|【at】|艾特|圈a|#|\sat\s")
URL = re.compile(rf"(?:(?<![a-z])[a-z][a-z0-9+.\-]*://|(?<![a-z0-9.])www\.){URL_TAIL}+")
DOMAIN = re.compile(rf"(?<![a-z0-9@_\-.])((?:{LABEL}{DOT})+{TLD})(?![a-z0-9\-@])(/{URL_TAIL}*)?")
OBFUSCATED_DOT = re.compile(r"\s*(?:\(dot\)|\[dot\]|\{dot\}|<dot>|【dot】|点|。)\s*|\s+dot\s+")

#: marketplaces and social shops: a link there that is not the platform is also advertising
MARKETPLACE_DOMAINS = (
    "taobao.com", "tmall.com", "jd.com", "jd.hk", "pinduoduo.com", "yangkeduo.com", "douyin.com", "kuaishou.com",
    "xiaohongshu.com", "xhslink.com", "1688.com", "weidian.com", "amazon.com", "amazon.cn", "ebay.com",
    "aliexpress.com", "vip.com", "suning.com", "dewu.com", "youzan.com", "tb.cn", "shopee.com", "lazada.com",
    "temu.com", "xianyu.com", "goofish.com",
)
SHOPPING_WORDS = re.compile(_alt(
    "买", "下单", "便宜", "同款", "优惠", "打折", "折扣", r"\d折", "店", "直播", "领券", "关注", "特价", "秒杀",
    "buy", "order", "cheaper", "discount", "shop", "store",
))

# ── messengers ──────────────────────────────────────────────────────────────────────────────

#: names of messengers that alone (with an invitation) mean "talk to me elsewhere"
IM_STRONG = _alt(
    "微信(?!支付|零钱|红包|转账|收款|付款|钱包|小程序|公众号|支付分|扫)", "weixin", "wechat",
    "(?<![a-z])v\\s?x(?![a-z])", "v信", "微[\\s\\-_.·*]{1,2}信", "威信", "薇信", "维信", "徽信", "魏信", "微x",
    "(?<![a-z])wx(?![a-z])", "(?<![a-z])q\\s?q(?![a-z])", "扣扣", "抠抠", "叩叩", "企鹅号", "钉钉", "飞书",
    "whatsapp", "telegram", "skype", "旺旺", "陌陌", "私人号", "个人号",
    "(?:加|添加|\\+|➕)(?:个|我|一下|下)?\\s*v(?![a-z0-9])",
)
#: words that mean a messenger only when an account follows
IM_WEAK = _alt("卫星", "企鹅", "(?<![a-z])tg(?![a-z])", "(?<![a-z0-9])v(?=\\s*[:：=])", "(?<![a-z])line\\s?id")
IM_MARKER = re.compile(f"(?P<strong>{IM_STRONG})|(?P<weak>{IM_WEAK})")
#: what may stand between a messenger's name and the account (号：, 就是我手机号, id …)
IM_ACCOUNT_AFTER = re.compile(
    r"(?:[\s:=\-+@()号码是为就我的账户名手机同群搜索一下“\"'「『]|id|no\.?){0,12}?"
    r"(\d(?:[\s\-]{0,2}\d){4,12}(?!\d)|[a-z0-9][a-z0-9_\-.]{3,29}[a-z0-9])")
IM_INVITE_BEFORE = re.compile(_alt(
    "加", "添", "联系", "私聊", "私信", "留个", "留下", "走", "换成", "换到", "来", "add"))
IM_INVITE_AFTER = re.compile("^[\\s:：]*" + _alt(
    "联系", "聊", "沟通", "私聊", "私信", "上说", "上聊", "里说", "里聊", "上沟通", "上找", "发您", "发你", "发给",
    "找我", "加我", "号", "账号", "好友", "详聊", "群", "上加", "搜", "me", "with me",
))
ACCOUNT_STOPWORDS = frozenset({
    "wechat", "weixin", "alipay", "iphone", "android", "online", "mall.example.com", "app", "qq.com",
})
#: joining a group is contact outside the platform; a promotional group is advertising too
GROUP = re.compile(r"(?:加入|加|进|入|拉您进|拉你进|拉您入|拉你入)(?:一下|个)?(?:我们的?|我的?)?"
                   r"(?P<promo>粉丝|福利|优惠|会员|vip)?(?:售后|交流|客户|顾客|买家|专属)?(?:qq|微信)?群")

# ── payment ─────────────────────────────────────────────────────────────────────────────────

PAY = _alt(
    "支付宝", "alipay", "(?<![a-z])zfb(?![a-z])", "财付通", "云闪付", "微信支付", "微信转账", "微信收款", "微信红包",
    "paypal", "收钱吧", "翼支付", "京东支付", "拉卡拉", "venmo",
)
PAY_SERVICE = re.compile(PAY)
#: an account after a payment service's name: e-mail, long number or login name
PAY_ACCOUNT = re.compile(
    rf"{EMAIL_PLAIN.pattern}|{EMAIL_OBFUSCATED.pattern}|\d(?:[\s\-]?\d){{7,}}|[a-z][a-z0-9_.\-]{{3,}}[a-z0-9]")
#: pay or send money to me / to this account
PAY_TO_ME = re.compile(
    rf"(?:转|打|付|汇|充|交)(?:款|钱|账|过来)?(?:到|给|进|至)?(?:我|我们|本人)(?:的|们的)?(?:个人|私人)?"
    rf"(?:{PAY}|微信|支付宝|账户|账号|(?:[\u4e00-\u9fff]{{0,4}}银行)?卡)"
    rf"|(?:转|打|付|汇)(?:款|钱)?(?:到|至|进)(?:这个|这|该|以下|下面的?|我们?的?)?(?:{PAY})?(?:收款)?(?:账户|账号)"
    rf"|(?:用|通过|走)(?:{PAY}|微信)(?:直接)?(?:转|打|付|退|返)(?:款|钱)?给(?:您|你|我)"
    rf"|(?:{PAY}|微信)(?:上)?(?:直接)?(?:转给|转您|转你|打给|付给|退给|返给)(?:您|你)"
    rf"|(?:{PAY}|微信)(?:也|都|上)?(?:可以|能|行)(?:直接)?转(?![回到])"
    rf"|转账(?:给|到)(?:我|我们)(?!们?平台)"
    rf"|(?:微信|支付宝)(?:上)?(?:发|给您发|给你发)?(?:个)?红包(?:给|到)?(?:您|你)?"
    rf"|红包(?:发|转)?(?:到|给)(?:您|你)的?(?:微信|支付宝)")
#: settling outside the platform
PRIVATE_DEAL = re.compile(
    r"(?:私下|不走平台|绕过平台|绕开平台|平台外|不通过平台|不经过平台|别走平台)(?:[^,。!?;]{0,8}?)"
    r"(?:转|退|付|打款|汇|结算|交易|返现|补偿|给您|给你|处理)"
    r"|线下(?:[^,。!?;]{0,4}?)(?:转账|付款|交易|结算|打款|退款|支付)")
_ACCT = rf"(?:{PAY}|微信|银行卡|付款码|收款码|收款账户|收款账号|卡号)(?:账号|账户|号|码|卡号)?"
#: asking the customer for an account or payment code
ASK_ACCOUNT = re.compile(
    rf"把(?:您|你)?(?:的)?(?P<a1>{_ACCT})(?:和[^,。]{{0,6}})?(?:发|告诉|给|留|私信|报|截图)"
    rf"|(?:发|告诉|给|留|报|提供)(?:一下|下|个)?(?:我|给我)?(?:一下)?(?:您|你)(?:的)?(?P<a2>{_ACCT})"
    rf"|(?:您|你)(?:的)?(?P<a3>{_ACCT})(?:是多少|多少|发我|发给我|给我|告诉我|留一下)"
    rf"|(?P<a4>付款码|收款码)[^,。!?;]{{0,6}}(?:我扫|给我扫|我来扫|让我扫)")

# ── QR codes ────────────────────────────────────────────────────────────────────────────────

QR = re.compile(_alt(
    "二维码", "收款码", "收钱码", "群码", "qr\\s?code", "qr码", "扫码", "扫一扫", "扫一下",
    "扫描(?:二维码|这个码|图片|下方|上方|上面|图中)", "长按[^,。!?;]{0,6}(?:识别|扫描)",
    "识别(?:一下)?(?:图中|图片|图里)",
    "头像[里上中]?的?码", "图[里上中]的?码", "这个码(?![数子])", "scan (?:the |my |this )?(?:qr|code)",
))
#: scanning that is not a QR code offered by the seller: lockers, waybills, the product's own code
QR_NOT_AFTER = re.compile(_alt(
    "取件", "开柜", "取货", "面单", "条码", "条形码", "运单", "快递单", "包裹", "sn", "序列号", "防伪", "商品码",
    "登录",
    "签收"))
QR_NOT_BEFORE = re.compile(_alt(
    "快递员", "快递小哥", "骑手", "师傅", "包装", "说明书", "机身", "商品", "产品", "吊牌", "标签", "防伪", "自提柜",
    "快递柜", "丰巢", "盒子", "保修卡"))

# ── physical shops ──────────────────────────────────────────────────────────────────────────

STORE = re.compile(_alt(
    "实体店", "门店", "档口", "店面", "铺面", "线下店", "体验店", "门市", "商铺", "铺位", "摊位", "专卖店", "直营店",
    "我们店在", "我家店在", "我们店就在", "店铺地址", "店的地址", "店地址", "physical store", "physical shop",
    "showroom", "our (?:physical )?(?:store|shop)(?: is)? (?:at|on|located)",
))
#: an invitation to a physical place, enough on its own
VISIT_STRONG = re.compile(_alt(
    "(?<![寄邮发送递货])(?:到|来)店(?![铺里])",
    "(?<![寄邮发送递])(?:到|来)(?:我们|咱们|我)的?(?:实体店|门店|档口|线下店|仓库|公司|厂)", "上门自取",
    "(?:visit|come to|drop by) (?:our|my) (?:store|shop|showroom|office|warehouse)",
))
#: words of coming over that make an address or a shop an invitation
VISIT = re.compile(_alt(
    "(?<![寄邮发送递])(?:直接)?来(?:我们|我|咱们|咱|这边|实体|门店|档口)", "(?<![寄邮发送递])过来", "拿过来", "带过来",
    "当面", "(?<!平台)自取", "进店", "欢迎(?:您)?(?:光临|来|过来)", "到了(?:打|联系|给我|找)",
    "drop by", "come by", "visit (?:our|my)", "come to (?:our|my)",
))
#: "our" just before a shop word: 我们门店, 本店的实体店
OWNED_BEFORE = re.compile(r"(?:我们|咱们|我家|咱家|我的|本)[^,。!?;]{0,2}$")
#: every address pattern has one of these; without it the (slower) address search is skipped
ADDRESS_HINT = re.compile(
    r"\d\s*[a-z]?\s*(?:号|弄|巷|楼|层|f|室|栋|幢|座|档|铺|商铺|摊位)|[a-z][座区]\s*\d|\d+\s+[a-z]+\s+[a-z]")
ADDRESS = re.compile(
    r"[\u4e00-\u9fff]{1,8}(?:路|街|大道|大街|巷|弄|胡同)\s*\d+\s*(?:号|弄|巷)"
    r"|[\u4e00-\u9fffa-z]{1,10}(?:广场|大厦|大楼|中心|商城|电脑城|数码城|市场|商场|商厦|写字楼|工业园|产业园|园区)"
    r"\s*[a-z]?\d*\s*(?:座|栋|幢)?\s*\d+\s*(?:楼|层|f|室|号|栋|幢|座)"
    r"|\d+\s*(?:楼|层|f)\s*[a-z]?\s*(?:区\s*)?\d*[a-z]?\d+\s*(?:档|铺|室|号)?"
    r"|[a-z]座\s*\d{2,}|[a-z]区\s*\d+\s*(?:档|铺|号)"
    r"|\d+\s*(?:号|[a-z])?\s*(?:档口|商铺|铺位|摊位)"
    r"|\d+\s+[a-z]+\s+(?:road|street|st|rd|avenue|ave|lu|jie)\b"
)

# ── advertising ─────────────────────────────────────────────────────────────────────────────

OTHER_PLATFORM = re.compile(_alt(
    "淘宝", "天猫", "拼多多", "京东(?!快递|物流|配送|方|小哥|到家|e卡)", "抖音", "快手", "小红书", "闲鱼", "微店",
    "唯品会",
    "苏宁", "(?<![0-9¥$.])1688(?![0-9元块])", "得物", "亚马逊", "有赞", "视频号", "b站", "哔哩哔哩", "微博", "公众号",
    "(?<![a-z])(?:taobao|tmall|pinduoduo|pdd|douyin|tiktok|kuaishou|amazon|ebay|aliexpress|shopee|lazada|xianyu|"
    "temu|jd)(?![a-z0-9])",
))
PLATFORM_ACTION_AFTER = re.compile("^[^,。!?;]{0,8}?" + _alt(
    "搜", "关注", "下单", "拍", "店", "直播", "主页", "账号", "号[:：]", "同款", "便宜", "优惠", "领券", "找我", "上新",
    "粉丝", "批发", "只要", "价", "search", "follow", "store", "shop", "live", "cheaper",
))
PLATFORM_ACTION_BEFORE = re.compile(
    "(?:" + _alt("去", "上", "关注", "搜", "来", "到") + "[^,。!?;]{0,3}"
    r"|(?:search|find|follow|buy|order|shop)\b[^,.;!?]{0,40}\b(?:on|at|in)\s*)$")
#: promotion of other shops, live streams and products
PROMOTION = re.compile(_alt(
    "推荐[^,。!?;]{0,4}?(?:我|我们)?(?:朋友|兄弟|亲戚|同学|老乡|隔壁|另一|别家|其他店)",
    "(?:朋友|兄弟|亲戚|同学|老乡)(?:家|开)(?:的|店)",
    "报我(?:的)?(?:名字|名号)", "报暗号", "对暗号",
    "新开(?:了)?(?:一)?(?:家|个)(?:店|分店|新店|小店)?",
    "(?<![0-9])[2-9二三两]号店", "分店", "小号店", "副店", "另一家店", "另外一家店", "另一个店",
    "(?:去|到|来)(?:那边|那家|那里|别家|我们另一家|另一家|新店|分店|其他店铺?|隔壁店?)(?:下单|买|拍|购买|看看|逛逛)",
    "直播间", "直播(?:中|时|福利|秒杀|抢)", "开播", "蹲(?:直播|我们)",
    "(?:关注|搜|加)(?:一下)?(?:我们的?|我的?)?(?:微信)?(?:公众号|视频号|抖音号|快手号|小红书号?)",
    "淘口令", "复制(?:这段|口令)",
    "(?:公众号|视频号|抖音号|快手号|小红书号?|微博号?)(?:是|叫|名称?|名字)?\\s*[:「“\"『《]",
    "关注(?:一下)?(?:我们|我)?的?[^,。!?;]{0,6}(?:公众号|视频号|抖音|快手|小红书|微博|b站)",
))
BRACKET_SEARCH = re.compile(r"搜(?:索|一下)?\s*[「『“\"《【\[][^」』”\"》】\]]{2,24}[」』”\"》】\]]")
ON_PLATFORM = re.compile(_alt("商城", "平台", "首页", "本店", "店铺首页", "我们店铺", "mall\\.example\\.com"))
#: the customer's own words reported back ("您说的直播间优惠…") are not a promotion
REPORTED_BEFORE = re.compile(
    _alt("您说的", "你说的", "您提到的", "您看到的", "您问的", "您说", "别人家的", "别家的") + "[^,。!?;]{0,4}$")
SOCIAL_ACCOUNT = re.compile(_alt("公众号", "视频号", "抖音号", "快手号", "小红书号"))

# ── abuse ───────────────────────────────────────────────────────────────────────────────────

#: English words, over the text as written (word boundaries need the spaces)
ABUSE_LATIN = re.compile(
    r"(?<![a-z])(?:fuck\w*|shit|stupid|idiot|moron|dumbass|asshole|bitch|wtf|retard\w*|shut\s*up|get\s+lost|"
    r"go\s+to\s+hell|piss\s+off|screw\s+you|damn\s+you|loser)(?![a-z])")

#: Chinese and pinyin, over the text without spaces and filler symbols (傻 逼, s.b)

ABUSE_FILLER = frozenset(" \t\r\n*·_~-.'\"`^+")
_ABUSE = (
    # pinyin initials and English
    "(?<![a-z])(?:sb|nmsl|cnm|wcnm|tmd|tnnd|mlgb|nmb|nmd|qnmd|qnmlgb|rnm|sbnc|shabi|naocan|zhizhang|baichi|ruozhi|"
    "gundan)(?![a-z0-9])",
    "(?:你|您)(?:是|真|就是|真是|个|这个|是个|是不是)*(?:2b|nc|zz|rz|猪)(?![a-z0-9])",
    "tm的",
    # insults, homophones of 傻逼 and the like
    "傻逼", "傻b", "傻比", "傻币", "傻笔", "傻屄", "傻x", "傻叉", "傻缺", "傻帽", "傻冒", "煞笔", "煞比", "煞逼",
    "沙比", "沙币", "沙笔", "沙逼", "沙雕", "傻子", "傻瓜(?!式|相机)", "二逼", "二b", "白痴", "弱智", "智障", "脑残",
    "脑瘫", "脑子有病", "脑子进水", "脑子有问题", "脑子坏", "没脑子", "猪脑子", "(?<!蠢)蠢(?!蠢)", "笨蛋", "笨猪",
    "废物(?!利用|处理|回收|箱|桶)", "狗东西", "王八蛋", "混蛋", "去死(?!皮|角|细胞)", "找死", "死全家", "全家死",
    "(?<!妈)妈的", "妈蛋", "他妈(?!妈)", "你妈(?!妈)", "尼玛", "泥马", "草泥马", "特么", "卧槽", "我操",
    "我草(?!莓|本|原|坪|地)", "操你", "草你妈", "日你妈", "日你大爷", "艹", "屁事", "放屁", "狗屁", "屁话",
    "你懂个屁", "闭嘴", "废话少说", "(?<!麻)烦我", "别来烦", "别再烦", "烦不烦", "烦死了", "有完没完", "穷鬼", "穷逼",
    "穷b", "穷酸", "穷光蛋", "穷就别", "穷还", "没钱就别", "没钱还", "买不起就", "买不起别", "屌丝", "二百五", "眼瞎",
    "你瞎", "瞎了(?:眼|吗|吧)", "没长眼", "不长眼", "听不懂人话", "不识字", "文盲", "没文化", "没素质", "不要脸",
    "贱人", "贱货", "犯贱", "下贱", "活该", "欠揍", "欠骂", "找抽", "找骂", "你有病", "有病吧", "有病啊",
    "你(?:是不是)?有毛病", "(?:动动|用用|长点|带)脑子", "智商(?:堪忧|低|不够|有问题|感人|税)", "少废话", "别说废话",
    "说废话", "神经病", "是不是傻", "你傻", "傻不傻", "你是猪", "这么简单都",
    "这都不(?:会|懂)(?:用|弄|装|操作|看|搞)?(?=[,。!?吧吗啊呀]|$)", "拉倒", "爱咋咋", "爱咋样咋样", "爱找谁找谁",
    "你爱咋", "(?:你|您)们?这种(?:人|买家|客户)", "真是奇葩", "奇葩(?:买家|客户)",
    "有本事(?:你)?(?:去)?(?:投诉|告|举报)", "你这个骗子", "白嫖", "无理取闹", "关我屁事", "关我什么事",
    "你(?:真|很|太|好)?(?:奇葩|矫情)", "事儿多", "事真多", "这么多事(?![情宜项务])", "事儿妈",
    "垃圾(?:客户|买家|东西|玩意|人)", "你(?:这个|这种)?垃圾",
    # contempt: 爱买不买, 爱退款不退款, 爱投诉就去投诉
    "爱(?P<w1>.)不(?P=w1)", "爱(?P<w2>..)不(?P=w2)", "爱(?P<w3>.{1,3})就去?(?P=w3)",
    # 滚 as a word (not 滚筒, 滚动)
    "滚(?:蛋|开|远点|出去|犊子)", "(?:给我|你|赶紧|快)滚(?![筒动轮珠刷烫])", "(?:^|(?<=[,。!?:]))滚(?=[,。!?]|$)",
)

#: alternatives that start with a plain character let the regex engine skip ahead quickly; the
#: few that start with a look-behind or an anchor run apart
ABUSE = re.compile(_alt(*(w for w in _ABUSE if not w.startswith(("(?<", "(?:^")))))
ABUSE_ANCHORED = re.compile(_alt(*(w for w in _ABUSE if w.startswith(("(?<", "(?:^")))))

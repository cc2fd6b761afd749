"""Chinese names for the demo: people, organisations by industry (with the customer type and the
USCC registration-authority/type prefix that goes with each), and what their key persons do."""

import random

from jiketong.customers.models import CustomerType

# Common surnames, most frequent first (a few with two readings: 曾 单 解 查 仇 区).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "单解查仇区"
)
COMPOUND_SURNAMES = ["欧阳", "司马", "上官", "诸葛"]
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林峰建国志文博亮晨阳海东振锋晖毅"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲桂英慧巧美晶颖琳雪婷倩洁燕萍红佳琪欣怡梦蕾薇雯璐瑶嘉悦彤晓"

BRAND_CHARS = (
    "华宏恒鑫瑞天金博汇新德嘉盛永安信达通源丰泰隆创合富兴和荣联广远志诚启明辰晟泓昊锦乐星耀优润科凯"
    "杰卓越亿佳宝正弘道海峰益顺祥运力维康辉众誉睿铭"
)
ORDINALS = "一二三四五六七八九"


def person_name(rng: random.Random) -> tuple[str, bool]:
    """A plausible full name and whether it is a man's."""
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    male = rng.random() < 0.55
    chars = MALE_CHARS if male else FEMALE_CHARS
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.75 else "")
    return surname + given, male


def brand(rng: random.Random) -> str:
    first = rng.choice(BRAND_CHARS)
    second = rng.choice(BRAND_CHARS)
    while second == first:
        second = rng.choice(BRAND_CHARS)
    return first + second


def place_word(rng: random.Random) -> str:
    return rng.choice("东南西北新中") + rng.choice("湖城山桥港岭塘园村岗湾洲")


# (name template, short-name template, customer type, USCC prefix, weight). Placeholders: {p} province
# short name, {c} the city (or the county-level city, which registers its own companies), {cs} its short
# form, {cd} city + district as an official name, {d} district, {ds} its short form, {b} brand,
# {pl} place word, {n} ordinal.
# Prefixes: 91 company, 93 farmers' cooperative, 11 government, 12 public institution, 51 social
# organisation, 52 private non-enterprise unit, 31 law firm, Y1 other.
E, G, INS, S = CustomerType.ENTERPRISE, CustomerType.GOVERNMENT, CustomerType.INSTITUTION, CustomerType.SOCIAL
TEMPLATES: dict[str, list[tuple[str, str, str, str, int]]] = {
    "government": [
        ("{cd}人民政府办公室", "{ds}政府办", G, "11", 2),
        ("{cd}教育局", "{ds}教育局", G, "11", 1),
        ("国家税务总局{cd}税务局", "{ds}税务局", G, "11", 2),
        ("{cd}市场监督管理局", "{ds}市监局", G, "11", 2),
        ("{cd}人力资源和社会保障局", "{ds}人社局", G, "11", 1),
        ("{cd}住房和城乡建设局", "{ds}住建局", G, "11", 1),
        ("{cd}城市管理和综合执法局", "{ds}城管局", G, "11", 1),
        ("{cd}应急管理局", "{ds}应急局", G, "11", 1),
        ("{cd}{pl}街道办事处", "{pl}街道", G, "11", 6),
        ("{cd}{pl}镇人民政府", "{pl}镇政府", G, "11", 3),
        ("{cd}{pl}社区居民委员会", "{pl}社区", S, "54", 3),
        ("{cd}人民武装部", "{ds}人武部", CustomerType.MILITARY, "A1", 1),
    ],
    "finance": [
        ("中国工商银行股份有限公司{cs}{ds}支行", "工行{ds}支行", E, "91", 3),
        ("中国建设银行股份有限公司{cs}{pl}支行", "建行{pl}支行", E, "91", 3),
        ("中国农业银行股份有限公司{cs}{ds}支行", "农行{ds}支行", E, "91", 3),
        ("中国银行股份有限公司{cs}{pl}支行", "中行{pl}支行", E, "91", 2),
        ("招商银行股份有限公司{cs}{pl}支行", "招行{pl}支行", E, "91", 2),
        ("{cd}农村信用合作联社", "{ds}信用社", E, "91", 1),
        ("{b}证券股份有限公司{cs}{pl}路证券营业部", "{b}证券{pl}营业部", E, "91", 2),
        ("中国人寿保险股份有限公司{cs}{ds}支公司", "国寿{ds}支公司", E, "91", 2),
        ("{c}{b}小额贷款有限公司", "{b}小贷", E, "91", 2),
        ("{c}{b}融资担保有限公司", "{b}担保", E, "91", 1),
    ],
    "education": [
        ("{c}第{n}中学", "{cs}{n}中", INS, "12", 3),
        ("{cd}{pl}小学", "{pl}小学", INS, "12", 5),
        ("{cd}{pl}中学", "{pl}中学", INS, "12", 3),
        ("{cd}{pl}幼儿园", "{pl}幼儿园", INS, "12", 3),
        ("{c}{b}职业技术学校", "{b}职校", INS, "12", 1),
        ("{c}{b}外国语学校", "{b}外国语", E, "52", 1),
        ("{c}{b}教育科技有限公司", "{b}教育", E, "91", 3),
        ("{c}{b}培训学校", "{b}培训", E, "52", 2),
    ],
    "healthcare": [
        ("{c}第{n}人民医院", "{cs}{n}院", INS, "12", 2),
        ("{cd}人民医院", "{ds}人民医院", INS, "12", 2),
        ("{cd}中医院", "{ds}中医院", INS, "12", 2),
        ("{cd}妇幼保健院", "{ds}妇幼", INS, "12", 1),
        ("{cd}疾病预防控制中心", "{ds}疾控", INS, "12", 1),
        ("{cd}{pl}社区卫生服务中心", "{pl}社卫", INS, "12", 3),
        ("{c}{b}医药有限公司", "{b}医药", E, "91", 3),
        ("{p}{b}大药房连锁有限公司", "{b}大药房", E, "91", 2),
        ("{c}{b}口腔门诊部有限公司", "{b}口腔", E, "91", 2),
        ("{c}{b}医疗器械有限公司", "{b}医疗器械", E, "91", 2),
    ],
    "transport": [
        ("{c}{b}物流有限公司", "{b}物流", E, "91", 5),
        ("{c}{b}运输有限公司", "{b}运输", E, "91", 3),
        ("{c}{b}供应链管理有限公司", "{b}供应链", E, "91", 3),
        ("{c}{b}国际货运代理有限公司", "{b}货代", E, "91", 2),
        ("{c}{b}汽车客运有限公司", "{b}客运", E, "91", 1),
        ("{c}{b}快递服务有限公司", "{b}快递", E, "91", 1),
    ],
    "manufacturing": [
        ("{c}{b}电子科技有限公司", "{b}电子", E, "91", 4),
        ("{c}{b}精密机械有限公司", "{b}机械", E, "91", 3),
        ("{c}{b}塑胶制品有限公司", "{b}塑胶", E, "91", 2),
        ("{c}{b}五金制品有限公司", "{b}五金", E, "91", 2),
        ("{c}{b}服装有限公司", "{b}服装", E, "91", 2),
        ("{c}{b}家具有限公司", "{b}家具", E, "91", 2),
        ("{c}{b}食品有限公司", "{b}食品", E, "91", 2),
        ("{c}{b}化工有限公司", "{b}化工", E, "91", 1),
        ("{c}{b}汽车零部件有限公司", "{b}汽配", E, "91", 2),
        ("{c}{b}电器股份有限公司", "{b}电器", E, "91", 2),
        ("{c}{b}照明科技有限公司", "{b}照明", E, "91", 1),
        ("{c}{b}新材料股份有限公司", "{b}新材料", E, "91", 2),
        ("{c}{b}纺织有限公司", "{b}纺织", E, "91", 1),
        ("{c}{b}包装材料有限公司", "{b}包装", E, "91", 1),
        ("{c}{b}实业有限公司", "{b}实业", E, "91", 2),
    ],
    "energy": [
        ("{c}{b}能源有限公司", "{b}能源", E, "91", 3),
        ("{c}{b}新能源科技有限公司", "{b}新能源", E, "91", 3),
        ("{c}{b}燃气有限公司", "{b}燃气", E, "91", 1),
        ("{c}{b}电力工程有限公司", "{b}电力", E, "91", 2),
        ("{c}{b}石油化工有限公司", "{b}石化", E, "91", 1),
        ("{cd}水务有限公司", "{ds}水务", E, "91", 1),
    ],
    "retail": [
        ("{c}{b}商贸有限公司", "{b}商贸", E, "91", 5),
        ("{c}{b}贸易有限公司", "{b}贸易", E, "91", 4),
        ("{p}{b}超市连锁有限公司", "{b}超市", E, "91", 2),
        ("{c}{b}百货有限公司", "{b}百货", E, "91", 1),
        ("{c}{b}便利店有限公司", "{b}便利店", E, "91", 1),
        ("{c}{b}汽车销售服务有限公司", "{b}汽车", E, "91", 2),
    ],
    "hospitality": [
        ("{c}{b}酒店有限公司", "{b}酒店", E, "91", 3),
        ("{c}{b}大酒店有限公司", "{b}大酒店", E, "91", 2),
        ("{c}{b}餐饮管理有限公司", "{b}餐饮", E, "91", 4),
        ("{c}{b}酒店管理有限公司", "{b}酒店管理", E, "91", 2),
        ("{c}{b}旅行社有限公司", "{b}旅行社", E, "91", 1),
    ],
    "construction": [
        ("{c}{b}建筑工程有限公司", "{b}建筑", E, "91", 4),
        ("{c}{b}房地产开发有限公司", "{b}地产", E, "91", 3),
        ("{c}{b}物业管理有限公司", "{b}物业", E, "91", 3),
        ("{c}{b}建设集团有限公司", "{b}建设", E, "91", 1),
        ("{c}{b}装饰工程有限公司", "{b}装饰", E, "91", 2),
        ("{c}{b}建材有限公司", "{b}建材", E, "91", 1),
    ],
    "it": [
        ("{c}{b}科技有限公司", "{b}科技", E, "91", 5),
        ("{c}{b}信息技术有限公司", "{b}信息", E, "91", 4),
        ("{c}{b}网络科技有限公司", "{b}网络", E, "91", 3),
        ("{c}{b}软件有限公司", "{b}软件", E, "91", 2),
        ("{c}{b}智能科技有限公司", "{b}智能", E, "91", 2),
        ("{c}{b}数据服务有限公司", "{b}数据", E, "91", 1),
    ],
    "agriculture": [
        ("{c}{b}农业发展有限公司", "{b}农业", E, "91", 3),
        ("{c}{b}生态农业有限公司", "{b}生态农业", E, "91", 2),
        ("{cd}{b}种养专业合作社", "{b}合作社", E, "93", 3),
        ("{c}{b}水产养殖有限公司", "{b}水产", E, "91", 1),
        ("{c}{b}茶业有限公司", "{b}茶业", E, "91", 1),
    ],
    "media": [
        ("{c}{b}文化传媒有限公司", "{b}传媒", E, "91", 4),
        ("{c}{b}广告有限公司", "{b}广告", E, "91", 3),
        ("{c}{b}影视文化有限公司", "{b}影视", E, "91", 1),
        ("{cd}融媒体中心", "{ds}融媒体", INS, "12", 1),
        ("{c}{b}出版印刷有限公司", "{b}印刷", E, "91", 1),
    ],
    "other": [
        ("{c}{b}人力资源有限公司", "{b}人力", E, "91", 3),
        ("{c}{b}企业管理咨询有限公司", "{b}咨询", E, "91", 3),
        ("{p}{b}律师事务所", "{b}律所", S, "31", 2),
        ("{c}{b}会计师事务所有限公司", "{b}会计所", E, "91", 1),
        ("{c}{pl}商会", "{pl}商会", S, "51", 1),
        ("{c}{b}行业协会", "{b}协会", S, "51", 1),
        ("{c}{b}慈善基金会", "{b}基金会", S, "53", 1),
        ("{c}{b}校友联谊会", "{b}联谊会", S, "Y1", 1),
        ("{c}{b}安保服务有限公司", "{b}安保", E, "91", 2),
    ],
}

# Group head offices, one per industry: "{b}" filled with a brand; members are "<head> + <branch>".
GROUP_TEMPLATES = {
    "government": ("{p}{b}事务中心", "{b}中心"),
    "finance": ("{b}保险集团股份有限公司", "{b}保险"),
    "education": ("{b}教育集团有限公司", "{b}教育集团"),
    "healthcare": ("{b}医疗集团有限公司", "{b}医疗"),
    "transport": ("{b}物流集团有限公司", "{b}物流"),
    "manufacturing": ("{b}控股集团有限公司", "{b}控股"),
    "energy": ("中国{b}能源集团有限公司", "{b}能源"),
    "retail": ("{b}商业集团股份有限公司", "{b}商业"),
    "hospitality": ("{b}酒店集团有限公司", "{b}酒店集团"),
    "construction": ("{b}建设集团有限公司", "{b}建设"),
    "it": ("{b}科技集团股份有限公司", "{b}科技"),
    "agriculture": ("{b}农业集团有限公司", "{b}农业"),
    "media": ("{b}文化传媒集团有限公司", "{b}传媒"),
    "other": ("{b}服务集团有限公司", "{b}服务"),
}

INDUSTRY_WEIGHTS = {
    "government": 6,
    "finance": 5,
    "education": 7,
    "healthcare": 6,
    "transport": 8,
    "manufacturing": 16,
    "energy": 3,
    "retail": 14,
    "hospitality": 7,
    "construction": 9,
    "it": 9,
    "agriculture": 3,
    "media": 3,
    "other": 4,
}

TITLES = {
    CustomerType.ENTERPRISE: [
        ("董事长", "decider"),
        ("总经理", "decider"),
        ("副总经理", "influencer"),
        ("行政总监", "influencer"),
        ("办公室主任", "user"),
        ("IT经理", "technical"),
        ("信息部主管", "technical"),
        ("采购经理", "purchaser"),
        ("财务总监", "influencer"),
        ("行政专员", "user"),
    ],
    CustomerType.GOVERNMENT: [
        ("局长", "decider"),
        ("主任", "decider"),
        ("副局长", "influencer"),
        ("办公室主任", "influencer"),
        ("信息科科长", "technical"),
        ("综合科科员", "user"),
        ("财务科科长", "purchaser"),
    ],
    CustomerType.INSTITUTION: [
        ("院长", "decider"),
        ("校长", "decider"),
        ("副院长", "influencer"),
        ("信息中心主任", "technical"),
        ("总务处处长", "purchaser"),
        ("办公室主任", "influencer"),
        ("办公室干事", "user"),
    ],
    CustomerType.SOCIAL: [
        ("会长", "decider"),
        ("秘书长", "influencer"),
        ("主任", "decider"),
        ("办公室干事", "user"),
    ],
    CustomerType.MILITARY: [("部长", "decider"), ("政委", "influencer"), ("参谋", "technical")],
}
DEPARTMENTS = [
    "总经办",
    "行政部",
    "财务部",
    "人力资源部",
    "信息技术部",
    "市场部",
    "销售部",
    "采购部",
    "生产部",
    "客服中心",
    "研发中心",
    "办公室",
    "综合科",
    "后勤保障部",
]
PREFERENCES = [
    "喜欢喝茶，周末爬山",
    "关注孩子升学",
    "不喜欢电话打扰，微信沟通",
    "羽毛球爱好者",
    "注重效率，汇报要简短",
    "喜欢钓鱼",
    "对价格敏感",
    "关注新技术",
    "",
    "",
    "",
]
CONTACT_OCCASIONS = ["入职纪念日", "结婚纪念日", "公司成立日", "孩子生日"]
CONTRACT_PRODUCTS = ["互联网专线", "企业宽带", "手机号码（统付）", "固定电话", "云主机", "物联网卡", "IDC托管"]

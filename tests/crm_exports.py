"""Wide contact exports shaped like those of Bitrix24, amoCRM and KeyCRM: 60 to 150 columns,
long titles, dozens of custom ``UF_CRM_…`` fields, more than one phone column.  Built here
(the column sets follow the CRMs' own export templates; the values are invented)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Export:
    name: str
    headers: list[str]
    rows: list[list[str]]
    phones: list[str]  # the number each row should import, E.164
    names: list[str]  # the fio each row should import

    def csv(self, delimiter: str = ";") -> bytes:
        def cell(text: str) -> str:
            if any(c in text for c in (delimiter, '"', "\n")):
                return '"' + text.replace('"', '""') + '"'
            return text

        lines = [delimiter.join(cell(c) for c in row) for row in [self.headers, *self.rows]]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


LONG_TITLE = (
    "Источник (откуда клиент узнал о компании): подробное описание канала привлечения клиента"
)


def bitrix24(rows: int = 30) -> Export:
    """A Bitrix24 CRM contact export: ~120 columns, names in three columns, work and mobile
    phones (often only one filled), and custom UF_CRM fields, every one filled in."""
    base = [
        "ID", "Обращение", "Имя", "Фамилия", "Отчество", "Дата рождения", "Должность",
        "Рабочий телефон", "Мобильный телефон", "Домашний телефон", "Рабочий e-mail",
        "Частный e-mail", "Компания", "Тип контакта", "Источник", "Дополнительно об источнике",
        "Ответственный", "Дата создания", "Кем создан", "Дата изменения", "Кем изменен",
        "Комментарий", "Адрес", "Город", "Регион", "Страна", LONG_TITLE,
    ]  # fmt: skip
    custom = [f"UF_CRM_16{n:08d}" for n in range(93)]
    headers = base + custom
    out, phones, names = [], [], []
    for i in range(rows):
        work = f"+38044{i:07d}"
        mobile = f"+38067{i:07d}" if i % 3 else ""  # every third contact: a work phone only
        row = [str(1000 + i), "г-н", f"Иван{i}", "Петров", "Сергеевич", "01.02.1980",
               "Менеджер", work, mobile, "", f"c{i}@example.com", "", "ТОВ \"Ромашка\"",
               "Клиенты", "Звонок", "", "Ольга Админ", "26.11.2026 09:30:00", "Ольга Админ",
               "26.11.2026 09:30:00", "Ольга Админ", "перезвонить\nпосле 18:00",
               "ул. Крещатик, 1", "Киев", "Киевская", "Украина", "реклама в Google"]  # fmt: skip
        row += [f"значение {n}" for n in range(len(custom))]
        out.append(row)
        phones.append(mobile or work)
        names.append(f"Петров Иван{i} Сергеевич")  # the three columns, in ПІБ order
    return Export("bitrix24", headers, out, phones, names)


def amocrm(rows: int = 30) -> Export:
    """An amoCRM leads export: ~80 columns, contact phones marked "(контакт)"."""
    base = [
        "ID", "Название сделки", "Бюджет ₴", "Ответственный", "Дата создания", "Кем создана",
        "Дата изменения", "Теги", "Примечание", "Этап сделки", "Воронка", "Основной контакт",
        "Компания", "Рабочий телефон (контакт)", "Мобильный телефон (контакт)",
        "Рабочий email (контакт)", "Должность (контакт)", "Полное имя контакта",
    ]  # fmt: skip
    custom = [f"Поле сделки {n}: {'дополнительная информация ' * 3}".strip() for n in range(62)]
    headers = base + custom
    out, phones, names = [], [], []
    for i in range(rows):
        mobile = f"+380 (50) {i // 100:03d}-{i % 100:02d}-00"
        row = [str(70000 + i), f"Сделка #{i}", "15000", "Менеджер", "26.11.2026", "Админ",
               "26.11.2026", "тег", "", "Первичный контакт", "Продажи", f"Олена {i}",
               "", "", mobile, f"o{i}@example.com", "Директор", f"Олена Коваль {i}"]  # fmt: skip
        row += [f"x{n}" for n in range(len(custom))]
        out.append(row)
        phones.append(f"+38050{i // 100:03d}{i % 100:02d}00")
        names.append(f"Олена Коваль {i}")
    return Export("amocrm", headers, out, phones, names)


def keycrm(rows: int = 30) -> Export:
    """A KeyCRM buyers export in Ukrainian: ~65 columns."""
    base = ["ID", "ПІБ", "Телефон", "Email", "Дата народження", "Стать", "Джерело",
            "Менеджер", "Коментар", "Кількість замовлень", "Сума замовлень", "Знижка"]  # fmt: skip
    custom = [f"Додаткове поле {n}" for n in range(53)]
    headers = base + custom
    out, phones, names = [], [], []
    for i in range(rows):
        row = [str(i + 1), f"Коваленко Петро {i}", f"+38093{i:07d}", f"p{i}@example.com",
               "", "ч", "Instagram", "Марія", "", "3", "4500", "5"]  # fmt: skip
        row += [f"значення {n}" for n in range(len(custom))]
        out.append(row)
        phones.append(f"+38093{i:07d}")
        names.append(f"Коваленко Петро {i}")
    return Export("keycrm", headers, out, phones, names)


EXPORTS = {"bitrix24": bitrix24, "amocrm": amocrm, "keycrm": keycrm}

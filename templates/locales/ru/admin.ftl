# Администрирование (/admin): его страницы, названия моделей со счётом и слова листалки из macros.html.
admin-title = Администрирование
admin-models = Модели
admin-breadcrumb = Навигационная цепочка
admin-col-model = Модель
admin-col-links = Ссылки
admin-add-short = Добавить
admin-list = Список
admin-recent = Последние действия
admin-recent-empty = Через администрирование пока ничего не меняли.

# Что записано в журнал: последние действия на главной, затем страница истории.
admin-log-entry = { $what } · { $models } · { $object }
admin-log-add = добавление
admin-log-change = изменение
admin-log-delete = удаление
admin-log-block = блокировка
admin-log-unblock = разблокировка
admin-log-enable = включение
admin-log-disable = отключение
admin-log-publish = публикация
admin-log-unpublish = снятие с публикации
admin-log-action-block = действие: блокировка
admin-log-action-unblock = действие: разблокировка
admin-log-action-enable = действие: включение
admin-log-action-disable = действие: отключение
admin-log-action-publish = действие: публикация
admin-log-action-unpublish = действие: снятие с публикации

# Один объект модели в винительном падеже, как в «Добавить клиента» ($what ниже).
admin-one-users = пользователя
admin-one-mailings = рассылку
admin-one-attempts = попытку
admin-one-clients = клиента
admin-one-global_suppressions = запись общего стоп-листа
admin-one-suppressions = запись стоп-листа
admin-one-messages = сообщение
admin-one-posts = запись
admin-one-log = запись журнала

# Число объектов модели.
admin-count-users = { $count ->
    [one] { $count } пользователь
    [few] { $count } пользователя
   *[many] { $count } пользователей
}
admin-count-mailings = { $count ->
    [one] { $count } рассылка
    [few] { $count } рассылки
   *[many] { $count } рассылок
}
admin-count-attempts = { $count ->
    [one] { $count } попытка
    [few] { $count } попытки
   *[many] { $count } попыток
}
admin-count-clients = { $count ->
    [one] { $count } клиент
    [few] { $count } клиента
   *[many] { $count } клиентов
}
admin-count-global_suppressions = { $count ->
    [one] { $count } запись общего стоп-листа
    [few] { $count } записи общего стоп-листа
   *[many] { $count } записей общего стоп-листа
}
admin-count-suppressions = { $count ->
    [one] { $count } запись стоп-листа
    [few] { $count } записи стоп-листа
   *[many] { $count } записей стоп-листа
}
admin-count-messages = { $count ->
    [one] { $count } сообщение
    [few] { $count } сообщения
   *[many] { $count } сообщений
}
admin-count-posts = { $count ->
    [one] { $count } запись
    [few] { $count } записи
   *[many] { $count } записей
}
admin-count-log = { $count ->
    [one] { $count } запись журнала
    [few] { $count } записи журнала
   *[many] { $count } записей журнала
}

# Список объектов.
admin-choose-change = Выберите { $what }, чтобы изменить.
admin-choose-view = Выберите { $what }, чтобы посмотреть.
admin-search-placeholder = Поиск: { $fields }
admin-search-label = Поиск: { $what }
admin-search = Найти
admin-add = Добавить { $what }
admin-action = Действие
admin-action-choose = Действие…
admin-delete-selected = Удалить выбранные: { $what }
admin-go = Выполнить
admin-select-across = Все подходящие ({ $objects }) на всех страницах
admin-select-page = Выбрать все на этой странице
admin-select-row = Выбрать «{ $name }»
admin-no-match = По запросу «{ $q }» ничего не найдено.
admin-none-here = Здесь пока ничего нет.
admin-filters = Фильтры
admin-filter = Фильтр
admin-filter-by = { $title }

# Форма добавления и изменения.
admin-view = Просмотр
admin-change = Изменить { $what }
admin-history = История
admin-delete = Удалить
admin-form-errors = Исправьте ошибки ниже.
admin-current-image = Текущее изображение
admin-remove-image = Убрать изображение
admin-save = Сохранить
admin-save-continue = Сохранить и продолжить
admin-save-add-another = Сохранить и добавить ещё

# Удаление одного объекта.
admin-delete-title = Удаление «{ $name }»
admin-delete-blocked = Нельзя удалить { $what } «{ $name }»
admin-delete-blocked-lead = Его используют эти объекты; сначала удалите или измените их:
admin-delete-ask = Удалить { $what } «{ $name }»?
admin-delete-related = Вместе с ним будут удалены связанные объекты:
admin-delete-nothing-else = Больше ничего удалено не будет.
admin-delete-keeps = помеха удалению
admin-and-more = и ещё { $count }
admin-back = Назад
admin-yes-delete = Да, удалить
admin-no-back = Нет, вернуться
# Объекты, которые удаляются вместе с удаляемым (или не дают его удалить), по названию, которое даёт им модель.
admin-related-clients = { $count ->
    [one] { $count } клиент
    [few] { $count } клиента
   *[many] { $count } клиентов
}
admin-related-messages = { $count ->
    [one] { $count } сообщение
    [few] { $count } сообщения
   *[many] { $count } сообщений
}
admin-related-mailings = { $count ->
    [one] { $count } рассылка
    [few] { $count } рассылки
   *[many] { $count } рассылок
}
admin-related-api-tokens = { $count ->
    [one] { $count } токен API
    [few] { $count } токена API
   *[many] { $count } токенов API
}
admin-related-attempts = { $count ->
    [one] { $count } попытка
    [few] { $count } попытки
   *[many] { $count } попыток
}

# Групповое действие: сначала вопрос.
admin-action-ask = { $action }?
admin-applies-to = Действие затронет объекты ({ $objects }):
admin-delete-related-too = Связанные с ними объекты тоже будут удалены.
admin-yes-sure = Да, уверен
admin-deleted = удалён
admin-history-of = История: { $name }
admin-col-when = Когда
admin-col-who = Кто
admin-col-action = Действие
admin-col-changes = Изменения
admin-history-empty = Через администрирование этот объект не меняли.

# Страница рассылки, её получатели и отчёт.
admin-mailing-recipients-count = Получатели ({ $count })
admin-mailing-no-recipients = Получателей нет.
admin-mailing-all-recipients = Все получатели
admin-mailing-report = Отчёт
admin-mailing-recipients = Получатели
admin-mailing-recipients-of = Получатели: { $name }
admin-mailing-report-of = Отчёт: { $name }
admin-mailing-no-recipients-at-all = У этой рассылки нет получателей.
admin-mailing-deliveries = Доставки
admin-mailing-attempts = Попытки
admin-mailing-no-attempts = Попыток пока не было.
admin-col-name = Имя
admin-col-email = Электронная почта

# Подсказка по Markdown в форме записи блога.
admin-md-title = Синтаксис Markdown
admin-md-lead = Текст записи пишется в Markdown: обычный текст с несколькими пометками, который в блоге показывается отформатированным.
admin-md-you-type = Вы пишете
admin-md-readers-see = Читатели видят
admin-md-bold = жирный
admin-md-italic = курсив
admin-md-struck = зачёркнутый
admin-md-heading = Заголовок
admin-md-smaller-heading = Заголовок поменьше
admin-md-headings = заголовки
admin-md-link-text = наши цены
admin-md-link = ссылку (http, https, mailto или на этот сайт)
admin-md-image-text = фото
admin-md-image = изображение
admin-md-item = пункт
admin-md-or = или
admin-md-one-a-line = , по одному на строку
admin-md-list = список
admin-md-quoted = цитата
admin-md-quotation = цитату
admin-md-table = таблицу
admin-md-empty-line = пустая строка
admin-md-paragraph = новый абзац
admin-md-html = HTML, набранный в записи, показывается как текст и не выполняется.
admin-md-back = К записям блога

# Листалка каждого списка (macros.html) — для ведущего: этим строкам место в site.ftl.
macros-previous = Назад
macros-next = Дальше
macros-in-all = всего { $count }

# Texts with values the admin crate writes (admin::phrase): form errors and messages.
admin-at-most-characters = Не больше { $count } { $count ->
        [one] символа
       *[other] символов
    }.
admin-out-of-range = Число { $value } вне допустимого диапазона.
admin-no-object = Объекта #{ $id } нет.
admin-unique = Другой объект «{ $model }» уже имеет это значение.
admin-no-action = Нет действия «{ $name }».
admin-too-many-selected = За один раз можно обработать не больше { $count } объектов; сузьте список.
admin-delete-protected = «{ $name }» нельзя удалить, пока им пользуются другие объекты.
admin-deleted-selected = { $models }: { $count ->
        [one] удалён { $count } объект
        [few] удалено { $count } объекта
       *[many] удалено { $count } объектов
    }.
admin-added = { $model } «{ $name }»: добавлено.
admin-changed = { $model } «{ $name }»: изменения сохранены.
admin-object-deleted = { $model } «{ $name }»: удалено.

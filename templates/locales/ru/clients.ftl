# Страницы клиентов: адресная книга, форма клиента, импорт из CSV.
clients-title = Клиенты
clients-count = { $count ->
    [one] В вашей адресной книге { $count } клиент.
    [few] В вашей адресной книге { $count } клиента.
   *[many] В вашей адресной книге { $count } клиентов.
}
clients-search-placeholder = Поиск по адресу или имени
clients-search-label = Поиск клиентов
clients-add = Добавить клиента
clients-import-csv = Импорт из CSV
clients-export-csv = Экспорт в CSV
clients-filter-state-label = Отбор по состоянию
clients-filter-tag-label = Отбор по метке
clients-filter-all = Все
clients-filter-active = Активные
clients-filter-unsubscribed = Отписавшиеся
clients-filter-bounced = Недоставка
clients-filter-complained = Жалобы
clients-filter-listed = В стоп-листе
clients-filter-any-tag = Любая метка
clients-suppression-list = Стоп-лист
clients-col-name = Имя
clients-col-email = Электронная почта
clients-col-full-name = Полное имя
clients-col-comment = Комментарий
clients-col-tags = Метки
clients-col-state = Состояние
clients-col-added = Добавлен
clients-col-actions = Действия
# Состояние клиента на его значке.
clients-state-active = активен
clients-state-unsubscribed = отписался
clients-state-bounced = недоставка
clients-state-complained = жалоба
clients-state-listed = в стоп-листе
clients-state-listed-global = в общем стоп-листе сервиса
clients-state-listed-own = в вашем стоп-листе
# Перед датой.
clients-state-since = с
clients-edit = Изменить
clients-delete = Удалить
clients-cancel = Отмена
clients-save = Сохранить
clients-none-match = Не найдено ни одного клиента
clients-none-match-query = по запросу «{ $query }»
clients-none-match-state = в состоянии «{ $state }»
clients-none-match-tag = с меткой «{ $tag }»
clients-show-all = Показать всех
clients-empty = Ваша адресная книга пуста.
clients-empty-hint = Добавьте первого клиента или импортируйте CSV-файл со столбцами «адрес электронной почты», «полное имя» и «комментарий».

# Форма клиента.
clients-add-title = Новый клиент
clients-edit-title = Изменение клиента
clients-field-email = Электронная почта
clients-field-full-name = Полное имя
clients-field-comment = Комментарий
clients-field-tags = Метки
clients-field-tags-help = Через запятую, например: customers, vip. Метка, которой у вас ещё нет, будет создана.
clients-field-attributes = Атрибуты
clients-field-attributes-help = По одному в строке в виде «имя: значение», например plan: gold. Имя состоит из латинских букв a–z, цифр и _ и начинается с буквы; его можно использовать в сообщениях.

# Удаление клиента.
clients-delete-title = Удаление клиента
clients-delete-question = Удалить клиента { $name }?
# После адреса клиента.
clients-delete-explanation = — этот адрес будет удалён из вашей адресной книги и из всех рассылок, которые на него отправляются. История доставки останется в ваших отчётах.
clients-delete-confirm = Да, удалить

# Импорт из CSV. Части вокруг разделителей «,» и «;» (они показаны как код).
clients-import-title = Импорт клиентов
clients-import-heading = Импорт клиентов из CSV
clients-import-columns = Столбцы: адрес электронной почты, полное имя, комментарий — со строкой заголовков или без неё, разделитель
clients-import-or = или
clients-import-columns-end = , кодировка UTF-8. Перед добавлением вы увидите предпросмотр; адреса, которые у вас уже есть, будут пропущены.
clients-import-header-tags = Если есть строка заголовков, столбец
clients-import-header-tags-names = (названия меток через
clients-import-header-attributes = ) задаёт метки клиентов, а каждый другой столбец становится атрибутом с именем по его заголовку (
clients-import-file = CSV-файл
clients-import-file-help = Не больше 10 МБ.
clients-import-progress = Ход загрузки
clients-import-upload = Загрузить и просмотреть

# Предпросмотр импорта.
clients-preview-title = Предпросмотр импорта
clients-preview-title-file = Предпросмотр импорта: { $file }
# Под числом.
clients-preview-valid = к импорту
clients-preview-duplicates = { $count ->
    [one] повтор, пропущен
    [few] повтора, пропущены
   *[many] повторов, пропущены
}
clients-preview-invalid = { $count ->
    [one] строка с ошибками, пропущена
    [few] строки с ошибками, пропущены
   *[many] строк с ошибками, пропущены
}
clients-preview-read = { $count ->
    [one] Прочитана { $count } строка
    [few] Прочитаны { $count } строки
   *[many] Прочитано { $count } строк
}, разделитель «{ $delimiter }».
clients-preview-read-after-header = { $count ->
    [one] Прочитана { $count } строка
    [few] Прочитаны { $count } строки
   *[many] Прочитано { $count } строк
} после строки заголовков, разделитель «{ $delimiter }».
clients-preview-sample = В таблице показаны первые строки и строки с ошибками.
clients-preview-tags-column = Метки берутся из столбца tags.
# Перед названиями атрибутов.
clients-preview-attributes = Атрибуты:
clients-preview-skipped = Эти столбцы не импортируются:
# Пропущенный столбец и причина.
clients-preview-skipped-column = «{ $header }»: { $reason }.
clients-preview-col-line = Строка
clients-preview-col-extra = Метки и атрибуты
clients-preview-col-verdict = Итог
clients-preview-duplicate = повтор
clients-preview-new = новый
clients-preview-import = { $count ->
    [one] Импортировать { $count } клиента
    [few] Импортировать { $count } клиентов
   *[many] Импортировать { $count } клиентов
}
clients-preview-another = Выбрать другой файл

## Problems with a client's attributes, tags and CSV lines (written in Rust, with values)
clients-attr-name-too-long = Имя «{ $name }» длиннее { $count } символов.
clients-attr-name-start = Имя «{ $name }» должно начинаться с латинской буквы (a–z).
clients-attr-name-letters = В имени «{ $name }» могут быть только латинские буквы a–z, цифры и _.
clients-attr-name-reserved = «{ $name }» — одно из собственных полей клиента.
clients-attr-value-nul = В значении «{ $name }» есть символ NUL.
clients-attr-value-line = Напишите значение «{ $name }» в одну строку.
clients-attr-value-too-long = Значение «{ $name }» длиннее { $count } символов.
clients-attr-line-no-colon = Строка { $line }: напишите её в виде «имя: значение» (двоеточия нет).
clients-attr-line-problem = Строка { $line }: { $problem }
clients-attr-line-repeated = Строка { $line }: «{ $name }» уже задано в строке { $first }.
clients-tag-separator = В метке «{ $tag }» есть «,» или «;» (они разделяют метки).
clients-tag-too-long = Метка «{ $tag }…» длиннее { $count } символов.
clients-import-cells = В этой строке { $count } { $count ->
        [one] ячейка
        [few] ячейки
       *[other] ячеек
    }, а в заголовке { $header }.
clients-import-cells-no-header = В этой строке { $count } { $count ->
        [one] ячейка
        [few] ячейки
       *[other] ячеек
    }: без строки заголовка в строке должны быть адрес, имя и, если хотите, комментарий.
clients-import-field-problem = { $field }: { $problem }
clients-import-skip-same-name = то же имя атрибута ({ $name }), что у столбца «{ $column }»
clients-import-skip-reserved = «{ $name }» — одно из собственных полей клиента
clients-import-skip-too-many = больше { $count } столбцов с атрибутами
clients-attr-twice = «{ $name }» указано дважды (регистр букв в именах не важен).
clients-could-not-check-address = Не удалось проверить адрес: { $detail }
